"""Domain signals of the clients app, sent *after commit* by the actions (never from save()).

Subscribe in your AppConfig.ready():

    from pingantong.clients.signals import client_terminated

    def _stop_tasks(sender, *, client, termination, **kwargs): ...
    client_terminated.connect(_stop_tasks, dispatch_uid="care.stop_tasks_on_termination")

Receivers run after the transaction committed; one failing receiver is logged and does not stop the
others (send_robust).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

# kwargs: client, application (None when enrolled directly by the agency)
client_enrolled = Signal()
# kwargs: client, termination (reason, effective_date: no billing or tasks from that date on)
client_terminated = Signal()
# kwargs: client, fields (names of changed fields) — for the provincial outbox (I2)
client_changed = Signal()
# kwargs: client, consent (the new latest record for consent.purpose)
consent_changed = Signal()


def send_on_commit(signal: Signal, sender: type, **kwargs) -> None:
    """Send `signal` once the current transaction commits (immediately outside one)."""

    def _send() -> None:
        for receiver, result in signal.send_robust(sender=sender, **kwargs):
            if isinstance(result, Exception):
                log.error("receiver %r of a clients signal failed", receiver, exc_info=result)

    transaction.on_commit(_send)
