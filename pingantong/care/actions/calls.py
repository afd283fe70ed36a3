"""Care calls (S11, Q2): the agent's call with its structured notes, and the automated call's
keypress result. An answered call is a life sign; concerns become follow-up tasks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import config
from ..choices import (
    CallMode,
    CallResult,
    HealthStatus,
    LifeSignSource,
    Mood,
    Need,
    TaskKind,
    TaskOutcome,
    TaskSource,
    TaskStep,
)
from ..models import CareCall, Task
from .confirmation import CHAINS, advance_confirmation
from .lifesigns import record_life_sign
from .tasks import complete_task, escalate_task, open_task, record_attempt

CONCERNING_MOODS = {Mood.LOW, Mood.DISTRESSED}
CONCERNING_HEALTH = {HealthStatus.POOR, HealthStatus.URGENT}


def _validate(result: str, mood: str, health: str, needs: list[str]) -> None:
    errors = {}
    if result not in CallResult.values:
        errors["result"] = f"Unknown call result {result!r}."
    if mood and mood not in Mood.values:
        errors["mood"] = f"Unknown mood {mood!r}."
    if health and health not in HealthStatus.values:
        errors["health"] = f"Unknown health status {health!r}."
    unknown = [n for n in needs if n not in Need.values]
    if unknown:
        errors["needs"] = f"Unknown needs: {', '.join(unknown)}."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def record_care_call(
    *,
    client: Any,
    by: Any | None,
    result: str,
    task: Task | None = None,
    mood: str = "",
    health: str = "",
    needs: list[str] | None = None,
    concerns: str = "",
    notes: str = "",
    now: dt.datetime | None = None,
) -> CareCall:
    """An agent's call to `client` (through the worklist, following the call script).

    Answered: a life sign; the task (care call or confirmation) closes with the notes; each need
    and any concern opens a follow-up task (urgent health within 2 hours, otherwise within a day).
    Unanswered: an attempt; after the configured number the task moves to its next step."""
    needs = list(dict.fromkeys(needs or []))
    _validate(result, mood, health, needs)
    if task is not None and task.client_id != client.pk:
        raise ValidationError({"task": "The task belongs to another client."})
    now = now or timezone.now()
    call = CareCall.objects.create(
        client=client,
        region_id=client.region_id,
        task=task,
        mode=CallMode.HUMAN,
        at=now,
        result=result,
        agent=by,
        mood=mood,
        health=health,
        needs=needs,
        concerns=concerns.strip(),
        notes=notes.strip(),
    )
    if result != CallResult.ANSWERED:
        if task is not None and task.is_active:
            record_attempt(
                task=task,
                result=result,
                by=by,
                detail=notes,
                data={"call": call.pk},
                retry_at=now + dt.timedelta(hours=1),
                now=now,
            )
            if task.kind in CHAINS and task.attempts >= config.agent_call_attempts():
                advance_confirmation(task=task, reason=f"{task.attempts} calls unanswered", by=by, now=now)
        return call
    record_life_sign(
        client=client,
        at=now,
        source=LifeSignSource.CALL_ANSWERED,
        by=by,
        evidence={"model": "care.carecall", "pk": str(call.pk)},
    )
    concerning = bool(needs or call.concerns or mood in CONCERNING_MOODS or health in CONCERNING_HEALTH)
    follow_ups = _open_follow_ups(call=call, by=by, now=now) if concerning else []
    if task is not None and task.is_active:
        complete_task(
            task=task,
            outcome=TaskOutcome.CONFIRMED_NEEDS_HELP if concerning else TaskOutcome.CONFIRMED_WELL,
            notes={
                "mood": mood,
                "health": health,
                "needs": needs,
                "concerns": call.concerns,
                "follow_ups": [t.pk for t in follow_ups],
            },
            by=by,
            evidence=[call],
            now=now,
        )
    return call


def _open_follow_ups(*, call: CareCall, by: Any, now: dt.datetime) -> list[Task]:
    urgent = call.health == HealthStatus.URGENT or call.mood == Mood.DISTRESSED
    due = now + (dt.timedelta(hours=2) if urgent else dt.timedelta(days=1))
    reasons = [str(Need(n).label) for n in call.needs]
    if call.concerns:
        reasons.append(call.concerns)
    if not reasons:
        reasons.append(f"mood {call.mood or '-'}, health {call.health or '-'}")
    return [
        open_task(
            kind=TaskKind.FOLLOW_UP,
            client=call.client,
            due_at=due,
            reason="; ".join(reasons),
            source=TaskSource.CALL,
            source_ref=str(call.pk),
            related=[call],
            created_by=by,
            now=now,
            team="supervisor" if urgent else "agent",
        )
    ]


@transaction.atomic
def record_automated_call_result(
    *, task: Task, answer: str | None, message_ref: str = "", now: dt.datetime | None = None
) -> Task:
    """The voice channel's report on an automated call: key "1" = all well (the task closes), "2" =
    please call me (the client answered, a life sign; an agent calls within 30 minutes), nothing =
    no answer (retried after ~10 minutes, then an agent calls)."""
    now = now or timezone.now()
    task = Task.objects.select_for_update().get(pk=task.pk)
    if not task.is_active or task.step != TaskStep.AUTOMATED_CALL or task.client_id is None:
        return task  # a late or repeated report changes nothing
    answered = bool(answer)
    call = CareCall.objects.create(
        client_id=task.client_id,
        region_id=task.region_id,
        task=task,
        mode=CallMode.AUTOMATED,
        at=now,
        result=CallResult.ANSWERED if answered else CallResult.NO_ANSWER,
        keypress=(answer or "")[:8],
        message_ref=message_ref,
    )
    if answered and task.client is not None:
        record_life_sign(
            client=task.client,
            at=now,
            source=LifeSignSource.CALL_ANSWERED,
            evidence={"model": "care.carecall", "pk": str(call.pk), "keypress": answer},
        )
    if answer == "1":
        return complete_task(
            task=task, outcome=TaskOutcome.CONFIRMED_WELL, notes={"keypress": "1"}, evidence=[call], now=now
        )
    if answered:
        # The client asked for a person: no later life sign may close this task before someone calls.
        task.notes = {**(task.notes or {}), "callback_requested": True}
        task.save(update_fields=["notes"])
        return escalate_task(
            task=task,
            reason=f"Client pressed {answer}: please call me",
            to_step=TaskStep.AGENT_CALL,
            due_at=now + dt.timedelta(minutes=30),
            now=now,
        )
    if task.attempts < config.automated_call_retries():
        retry_at = now + config.automated_call_retry_delay()
        record_attempt(
            task=task,
            result=CallResult.NO_ANSWER,
            detail="automated call unanswered; retrying",
            data={"call": call.pk},
            retry_at=retry_at,
            now=now,
        )
        transaction.on_commit(lambda: _retry_call(task.pk, retry_at))
        return task
    return advance_confirmation(task=task, reason="Automated calls unanswered", now=now)


def _retry_call(task_id: int, at: dt.datetime) -> None:
    from .. import voice

    voice.place_confirmation_calls([task_id], eta=at)
