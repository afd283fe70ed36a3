"""Signals other apps may listen to, all sent after commit with `task=`.

The alarm centre listens to `task_completed` to close its loop when the on-site emergency visit it
opened is done (S02, S03)."""

from django.dispatch import Signal

task_opened = Signal()
task_escalated = Signal()
task_completed = Signal()

# S17: a client was flagged as needing intervention (keyword `flag=`), for live warnings.
intervention_flagged = Signal()
