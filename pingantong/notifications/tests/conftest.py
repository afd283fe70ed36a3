"""Fixtures of the notifications tests: a recording channel that can be told to fail."""

from __future__ import annotations

import pytest

from pingantong.notifications.channels import registry
from pingantong.notifications.channels.base import Outgoing, SendResult


class ScriptedChannel:
    """Records every send; raises the queued errors first (to drive retries)."""

    name = "scripted"

    def __init__(self) -> None:
        self.calls: list[Outgoing] = []
        self.errors: list[Exception] = []

    def send(self, message: Outgoing) -> SendResult:
        self.calls.append(message)
        if self.errors:
            raise self.errors.pop(0)
        return SendResult(provider_message_id=f"p-{len(self.calls)}")


@pytest.fixture
def sms():
    channel = ScriptedChannel()
    with registry.override("sms", channel):
        yield channel


@pytest.fixture
def voice():
    channel = ScriptedChannel()
    with registry.override("voice", channel):
        yield channel


@pytest.fixture
def huey():
    from huey.contrib.djhuey import HUEY

    HUEY.storage.flush_all()
    yield HUEY
    HUEY.storage.flush_all()
