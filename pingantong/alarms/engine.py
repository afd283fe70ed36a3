"""How the alarm rules plug into the gateway's rules stage (`pingantong.gateway.pipeline`).

`alarm_rule` is registered with the pipeline: it assembles the alarm rules' context (is the device
bound, the client's limits and safe areas, the device's recent fixes: reads only) and translates
their decisions into the pipeline's `RaiseAlarm` and our `RecordSignal`. The appliers turn those
into `join_or_raise` / `record_signal` in the engine's transaction, so the live push and the
cascade run after that commit.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from pingantong.gateway import pipeline

from . import rules

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecordSignal(pipeline.Decision):
    """A device condition to record without interrupting an agent."""

    signal_type: str
    event_id: int
    device_pk: int | None
    device_identity: str
    client_id: Any
    occurred_at: Any
    data: dict[str, Any] = field(default_factory=dict)


def _settings_for(client_id: Any) -> Any:
    """The client's alarm settings; inside a rules batch, those of every client of the batch are
    read at the first need, in one query (a bound client's every position report needs them, for
    the safe areas: one query per report cost more than the rest of its rules; decision 0113)."""
    from .models import AlarmSettings

    if client_id is None:
        return None
    memo = pipeline.batch_memo()
    if memo is None:
        return AlarmSettings.objects.filter(client_id=client_id).first()
    by_client = memo.get("alarm_settings")
    if by_client is None:
        clients = {i.device.client_id for i in pipeline.batch_items() if i.device is not None}
        clients.discard(None)
        clients.add(client_id)
        by_client = memo["alarm_settings"] = {
            row.client_id: row for row in AlarmSettings.objects.filter(client_id__in=list(clients))
        }
    return by_client.get(client_id)


def _recent_fixes(device_pk: int, before: Any, seconds: int) -> tuple[rules.Fix, ...]:
    from pingantong.devices.models import PositionRecord

    rows = (
        PositionRecord.objects.filter(
            device_id=device_pk,
            recorded_at__lt=before,
            recorded_at__gte=before - timedelta(seconds=seconds * 3),
        )
        .order_by("recorded_at")
        .values_list("recorded_at", "latitude", "longitude", "valid", "satellites")[:500]
    )
    return tuple(
        rules.Fix(
            at=at,
            latitude=lat,
            longitude=lon,
            valid=valid,
            accuracy_m=float("inf") if sats is not None and sats < 4 else None,
        )
        for at, lat, lon, valid, sats in rows
    )


def build_context(event: Any, ctx: Any) -> rules.RuleContext:
    """The alarm rules' context for one event: only what the event needs is read."""
    settings_row = None
    if ctx.client_id is not None and (event.position is not None or event.vitals):
        settings_row = _settings_for(ctx.client_id)
    now = event.device_time or ctx.received_at or timezone.now()
    kwargs: dict[str, Any] = {"now": now, "bound": not ctx.unbound, "client_key": ctx.client_id}
    if settings_row is not None:
        kwargs["vital_limits"] = settings_row.vital_limits or {}
        areas = []
        for area in settings_row.safe_areas or []:
            try:
                areas.append(rules.SafeArea.from_json(area))
            except (ValueError, TypeError, KeyError):
                log.warning("ignoring a malformed safe area of client %s: %r", ctx.client_id, area)
        kwargs["safe_areas"] = tuple(areas)
        kwargs["geofence_dwell_seconds"] = settings_row.geofence_dwell_seconds
        kwargs["geofence_max_accuracy_m"] = float(settings_row.geofence_max_accuracy_m)
        if areas and event.position is not None and event.position.valid and ctx.device_pk is not None:
            kwargs["recent_fixes"] = _recent_fixes(ctx.device_pk, now, settings_row.geofence_dwell_seconds)
    return rules.RuleContext(**kwargs)


_warm_started = False


def warm_up() -> None:
    """Load what the first alarm of a process would otherwise pay for on the SOS path: the actions
    and live-push modules, the queue row's template and its labels (about a second in a fresh
    process on a loaded machine, against ~5 ms per alarm afterwards)."""
    try:
        from django.template.loader import get_template

        from . import actions, live, selectors  # noqa: F401

        get_template("alarms/_row.html")
        selectors.row_labels()
    except Exception:
        log.exception("alarm path warm-up failed (the first alarm will load it)")


def _warm_once() -> None:
    """On the first event the rules see in this process, warm up in the background: the rules
    thread (or process) is not held up, and a gateway that never sees an event pays nothing."""
    global _warm_started
    if _warm_started:
        return
    _warm_started = True
    threading.Thread(target=warm_up, name="alarm-warm-up", daemon=True).start()


def alarm_rule(event: Any, ctx: Any) -> list[pipeline.Decision]:
    """The alarm centre's rule in the gateway pipeline (all of `rules.RULES` on one event)."""
    _warm_once()
    if not (event.alarms or event.sensor or event.vitals):
        # A plain report can only raise a geofence alarm (a bound client's safe areas) or a
        # low-battery signal: skip building the context when neither can apply (most reports).
        low_battery = event.battery_pct is not None and event.battery_pct <= rules.LOW_BATTERY_PCT
        if not low_battery and (event.position is None or ctx.client_id is None):
            return []
    rule_ctx = build_context(event, ctx)
    occurred_at = event.device_time or ctx.received_at
    out: list[pipeline.Decision] = []
    for decision in rules.evaluate(event, rule_ctx):
        if isinstance(decision, rules.RaiseAlarm):
            extra: dict[str, Any] = {
                "priority": decision.priority,
                "detail": decision.detail,
                "data": dict(decision.data),
            }
            if event.position is not None and (event.position.valid or event.position.latitude):
                extra["latitude"], extra["longitude"] = event.position.latitude, event.position.longitude
            out.append(
                pipeline.RaiseAlarm(
                    alarm_type=decision.alarm_type,
                    event_id=ctx.event_id,
                    device_pk=ctx.device_pk,
                    device_identity=ctx.device_identity,
                    protocol=ctx.protocol,
                    client_id=ctx.client_id,
                    unbound=ctx.unbound,
                    occurred_at=occurred_at,
                    extra=extra,
                )
            )
        else:
            out.append(
                RecordSignal(
                    signal_type=decision.signal_type,
                    event_id=ctx.event_id,
                    device_pk=ctx.device_pk,
                    device_identity=ctx.device_identity,
                    client_id=ctx.client_id,
                    occurred_at=occurred_at,
                    data=dict(decision.data),
                )
            )
    return out


def apply_raise_alarm(decision: Any) -> None:
    """Applier: raise the alarm, or join the client's open one (repeat → higher priority)."""
    from pingantong.clients.models import Client

    from .actions import join_or_raise

    started = (time.perf_counter(), time.thread_time())
    client = Client.objects.filter(pk=decision.client_id).first() if decision.client_id is not None else None
    region_code = None
    if client is None and decision.device_pk is not None:
        # A registered but unbound device: its alarm goes to the device's region (one small read;
        # a bound device's alarm takes the client's region and needs no device row).
        from pingantong.devices.models import Device

        region_code = Device.objects.filter(pk=decision.device_pk).values_list("region_id", flat=True).first()
    extra = decision.extra or {}
    alarm, _created = join_or_raise(
        alarm_type=decision.alarm_type,
        device_ident=decision.device_identity,
        device_id=decision.device_pk,
        client=client,
        region_code=region_code,
        priority=extra.get("priority"),
        detail=extra.get("detail", ""),
        from_unbound_device=decision.unbound,
        source_event_id=decision.event_id,
        latitude=extra.get("latitude"),
        longitude=extra.get("longitude"),
        at=timezone.now(),
        data={
            "device_time": decision.occurred_at.isoformat() if decision.occurred_at else None,
            "protocol": decision.protocol,
            **extra.get("data", {}),
        },
    )
    # The push after commit records, on the `pushed` step, how long the alarm side took from here
    # (wall and this thread's CPU): the evidence that separates our work from waiting for a core.
    alarm.timing_started = started  # type: ignore[attr-defined]


def apply_signal(decision: Any) -> None:
    from .actions import record_signal

    record_signal(
        signal_type=decision.signal_type,
        device_ident=decision.device_identity,
        device_id=decision.device_pk,
        client_id=decision.client_id,
        source_event_id=decision.event_id,
        data=decision.data,
        at=decision.occurred_at,
    )


def register() -> None:
    pipeline.register_rule(alarm_rule)
    pipeline.register_applier(pipeline.RaiseAlarm, apply_raise_alarm)
    pipeline.register_applier(RecordSignal, apply_signal)
