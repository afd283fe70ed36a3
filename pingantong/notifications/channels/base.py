"""One interface for every channel: SMS, voice call with keypress, WeChat template message and
signed webhook.

An adapter turns an `Outgoing` (recipient, template code at that provider, parameters, rendered
text, idempotency key) into a provider call and returns a `SendResult` with the provider's
message id, or raises `TransientError` (worth retrying: throttling, timeout, 5xx) or
`PermanentError` (bad credentials, invalid number, template rejected). Receipts and keypresses
arrive later, through callbacks or polling, as `Receipt`s that `actions.apply_receipt` applies.

Adapters know nothing of Django models: they are tested against local protocol servers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol


class ChannelError(Exception):
    """A provider refused or could not take a message; `code` is the provider's own reason."""

    transient: ClassVar[bool] = False

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class TransientError(ChannelError):
    """Try again later: throttled, timed out, provider temporarily unavailable."""

    transient = True


class PermanentError(ChannelError):
    """Retrying will not help: bad credentials, wrong signature, invalid number or template."""


class ConfigurationError(PermanentError):
    def __init__(self, detail: str) -> None:
        super().__init__("configuration", detail)


@dataclass(frozen=True)
class Outgoing:
    """What an adapter needs to send one message."""

    recipient: str
    template_code: str
    params: dict[str, str]
    text: str
    idempotency_key: str
    param_order: tuple[str, ...] = ()
    recipient_name: str = ""


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    delivered: bool = False  # the provider confirmed delivery already (development channel)


@dataclass(frozen=True)
class Receipt:
    """A delivery report or keypress result from a provider.

    `delivered` True/False for a final delivery outcome (None: no delivery news); `answer` is the
    key pressed or reply text: it is what makes a message *acknowledged*.
    """

    provider_message_id: str = ""
    idempotency_key: str = ""
    delivered: bool | None = None
    answer: str = ""
    code: str = ""
    detail: str = ""
    at: datetime | None = None
    extra: dict = field(default_factory=dict)


class Channel(Protocol):
    """What every adapter provides."""

    name: str  # provider name stored on the message, e.g. "aliyun"

    def send(self, message: Outgoing) -> SendResult: ...


def env(name: str, default: str | None = None) -> str:
    """A credential or setting from the environment; missing ones are a clear configuration error."""
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise ConfigurationError(f"environment variable {name} is not set")
    return value
