"""Signals other apps may listen to instead of polling.

`message_changed(sender=Message, message=..., status=...)` is sent after the transaction that
changed a message's state commits (sent, delivered, acknowledged, failed): the alarm centre's
cascade can move on as soon as a contact acknowledges, and stop waiting when a call failed.
"""

from django.dispatch import Signal

message_changed = Signal()
