"""Which adapter serves each channel, chosen from the environment.

PINGANTONG_SMS_PROVIDER: development (default) | aliyun | tencent | smpp
PINGANTONG_VOICE_PROVIDER: development (default) | aliyun
PINGANTONG_WECHAT_PROVIDER: development (default) | wechat
PINGANTONG_WEBHOOK_PROVIDER: development (default) | webhook
Tests and the benchmark swap adapters with `override`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from ..choices import ChannelKind
from .base import Channel, ConfigurationError
from .development import DevelopmentChannel

_overrides: dict[str, Channel] = {}
_cache: dict[tuple[str, str], Channel] = {}


def _build(kind: str, provider: str) -> Channel:
    if provider == "development":
        return DevelopmentChannel(kind)
    if kind == ChannelKind.SMS and provider == "aliyun":
        from ..providers.aliyun import AliyunSms

        return AliyunSms.from_env()
    if kind == ChannelKind.SMS and provider == "tencent":
        from ..providers.tencent import TencentSms

        return TencentSms.from_env()
    if kind == ChannelKind.SMS and provider == "smpp":
        from ..providers.smpp import SmppSms

        return SmppSms.from_env()
    if kind == ChannelKind.VOICE and provider == "aliyun":
        from ..providers.aliyun import AliyunVoice

        return AliyunVoice.from_env()
    if kind == ChannelKind.WECHAT and provider == "wechat":
        from .wechat import WechatChannel

        return WechatChannel.from_env()
    if kind == ChannelKind.WEBHOOK and provider == "webhook":
        from .webhook import WebhookChannel

        return WebhookChannel.from_env()
    raise ConfigurationError(f"no provider {provider!r} for channel {kind!r}")


def provider_for(kind: str) -> str:
    if kind in _overrides:
        return _overrides[kind].name
    return os.environ.get(f"PINGANTONG_{kind.upper()}_PROVIDER", "development").strip() or "development"


def get_channel(kind: str) -> Channel:
    if kind in _overrides:
        return _overrides[kind]
    provider = provider_for(kind)
    key = (kind, provider)
    if key not in _cache:
        _cache[key] = _build(kind, provider)
    return _cache[key]


@contextmanager
def override(kind: str, channel: Channel) -> Iterator[Channel]:
    previous = _overrides.get(kind)
    _overrides[kind] = channel
    try:
        yield channel
    finally:
        if previous is None:
            _overrides.pop(kind, None)
        else:
            _overrides[kind] = previous
