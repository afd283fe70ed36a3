"""The development channel, the embedded default: nothing leaves the machine.

Every message is recorded (the Message row itself is the record), delivery is simulated at once,
and a person can "press the key" from the messages page (`/notifications/`), which is how the
alarm centre's end-to-end tests acknowledge a contact's call.
"""

from __future__ import annotations

import uuid

from .base import Outgoing, SendResult


class DevelopmentChannel:
    name = "development"

    def __init__(self, kind: str = "sms") -> None:
        self.kind = kind
        self.sent: list[Outgoing] = []

    def send(self, message: Outgoing) -> SendResult:
        self.sent.append(message)
        if len(self.sent) > 1000:  # keep memory bounded in long runs
            del self.sent[:500]
        return SendResult(provider_message_id=f"dev-{uuid.uuid4().hex[:16]}", delivered=True)
