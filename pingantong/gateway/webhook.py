"""Vendor-cloud webhook: device events posted over HTTPS, signed with a per-vendor shared secret.

    POST /gateway/webhook/<vendor>/
    X-Pingantong-Timestamp: <unix seconds>
    X-Pingantong-Nonce: <16–64 url-safe characters, never reused>
    X-Pingantong-Signature: hex(HMAC-SHA256(secret, "<timestamp>.<nonce>." + body))
    {"events": [{"device_id": "…", "kind": "alarm", "time": "2026-11-28T10:00:00Z",
                 "alarms": ["sos"], "position": {"latitude": …, "longitude": …, "valid": true},
                 "battery_pct": 80, "vitals": {"heart_rate_bpm": 72}, "sensor": {…}}]}

A request is refused (nothing stored) when the vendor is unknown or inactive (404), the signature
does not match (401), the timestamp is more than `WINDOW` seconds off (401), the nonce was seen
(409, a replay) or the body is malformed (400, naming the event and field). Accepted events are
committed (the same tables and inbox as terminal frames) before the 200 answer, then go through
the rules stage. Secrets: `PINGANTONG_WEBHOOK_SECRET_<VENDOR>` in the environment, else the
`devices.WebhookVendor` row.

Order and duplicates: a vendor cloud delivers at least once and not necessarily in order. An event
carrying an `event_id` already stored for that vendor is ignored (answered as a duplicate, not
stored again). A request's events are stored per device in device-time order, and an event older
than the newest one already stored for its device is stored as late data (`archived`), so it
cannot overwrite the newer latest state; an SOS among them is still an SOS.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from pingantong.gateway.events import KINDS, DeviceEvent, Position
from pingantong.gateway.ingest import FrameIn, store_batch
from pingantong.gateway.models import VendorDeviceClock, VendorEventSeen
from pingantong.gateway.pipeline import RulesEngine, is_urgent

log = logging.getLogger("pingantong.gateway.webhook")

PROTOCOL = "webhook"
WINDOW = 300
MAX_BODY = 256 * 1024
MAX_EVENTS = 500
_NONCE = re.compile(r"^[A-Za-z0-9_\-]{16,64}$")
EVENT_ID_KEY = "vendor_event_id"  # where the vendor's event id travels in DeviceEvent.extra
_engine = RulesEngine()
_engine_lock = threading.Lock()


class WebhookRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def sign(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The signature a vendor sends (also used by tests and the vendor bridge)."""
    message = f"{timestamp}.{nonce}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def secret_for(vendor: str) -> str | None:
    from pingantong.devices.models import WebhookVendor

    env = os.environ.get(f"PINGANTONG_WEBHOOK_SECRET_{vendor.upper().replace('-', '_')}")
    if env:
        return env
    row = WebhookVendor.objects.filter(name=vendor, active=True).values_list("secret", flat=True).first()
    return row or None


def verify(vendor: str, headers: Any, body: bytes, *, now: float | None = None) -> str:
    """Check vendor, signature and timestamp; returns the nonce (spent later with `use_nonce`)."""
    secret = secret_for(vendor)
    if secret is None:
        raise WebhookRejected(404, f"unknown webhook vendor {vendor!r}")
    timestamp = headers.get("X-Pingantong-Timestamp", "")
    nonce = headers.get("X-Pingantong-Nonce", "")
    signature = headers.get("X-Pingantong-Signature", "")
    if not timestamp.isdigit() or not _NONCE.match(nonce) or not signature:
        raise WebhookRejected(401, "missing or malformed timestamp, nonce or signature header")
    if not hmac.compare_digest(sign(secret, timestamp, nonce, body), signature.lower()):
        raise WebhookRejected(401, "signature does not match")
    if abs((now if now is not None else time.time()) - int(timestamp)) > WINDOW:
        raise WebhookRejected(401, f"timestamp outside the {WINDOW} s window")
    return str(nonce)


def use_nonce(vendor: str, nonce: str) -> None:
    from pingantong.devices.models import WebhookNonce

    now = timezone.now()
    try:
        with transaction.atomic():
            WebhookNonce.objects.create(vendor=vendor, nonce=nonce, seen_at=now)
    except IntegrityError:
        raise WebhookRejected(409, "nonce already used (replayed request)") from None
    # Nonces older than twice the window can no longer pass the timestamp check.
    WebhookNonce.objects.filter(seen_at__lt=now - timedelta(seconds=2 * WINDOW)).delete()


def _event(vendor: str, index: int, item: Any) -> DeviceEvent:
    where = f"events[{index}]"
    if not isinstance(item, dict):
        raise WebhookRejected(400, f"{where}: must be an object")
    device_id = item.get("device_id")
    if not isinstance(device_id, str) or not device_id.strip() or len(device_id) > 64:
        raise WebhookRejected(400, f"{where}.device_id: required text of at most 64 characters")
    kind = item.get("kind") or ("alarm" if item.get("alarms") else "status")
    if kind not in KINDS:
        raise WebhookRejected(400, f"{where}.kind: one of {', '.join(KINDS)}")
    device_time = None
    if item.get("time") is not None:
        try:
            device_time = datetime.fromisoformat(str(item["time"]).replace("Z", "+00:00"))
        except ValueError:
            raise WebhookRejected(400, f"{where}.time: not an ISO-8601 time") from None
        if device_time.tzinfo is None:
            raise WebhookRejected(400, f"{where}.time: needs a UTC offset")
    event_id = item.get("event_id")
    if event_id is not None and (not isinstance(event_id, str | int) or not 0 < len(str(event_id)) <= 64):
        raise WebhookRejected(400, f"{where}.event_id: text of 1 to 64 characters")
    position = None
    if item.get("position") is not None:
        pos = item["position"]
        try:
            lat, lon = float(pos["latitude"]), float(pos["longitude"])
        except (TypeError, KeyError, ValueError):
            raise WebhookRejected(400, f"{where}.position: latitude and longitude required") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise WebhookRejected(400, f"{where}.position: out of range")
        position = Position(lat, lon, bool(pos.get("valid", True)), speed_kmh=pos.get("speed_kmh"))
    try:
        event = DeviceEvent(
            protocol=PROTOCOL,
            device_id=f"{vendor}:{device_id.strip()}"[:64],
            message=str(item.get("message") or f"{vendor}:{kind}")[:32],
            kind=kind,
            device_time=device_time,
            position=position,
            alarms=list(item.get("alarms") or []),
            battery_pct=_int_or_none(item.get("battery_pct")),
            signal_pct=_int_or_none(item.get("signal_pct")),
            steps=_int_or_none(item.get("steps")),
            vitals={k: float(v) for k, v in (item.get("vitals") or {}).items()},
            sensor=item.get("sensor") if isinstance(item.get("sensor"), dict) else None,
            extra={EVENT_ID_KEY: str(event_id)} if event_id is not None else {},
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise WebhookRejected(400, f"{where}: {exc}") from None
    if event.kind != "alarm" and is_urgent(event):
        # A call for help is an alarm event whatever the vendor called it, as from our own codecs:
        # the rules' priority lane (and the supervision's alarm index) look for kind "alarm".
        event.kind = "alarm"
    return event


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a number: {value!r}")
    return int(value)


def parse_events(vendor: str, body: bytes) -> list[DeviceEvent]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected(400, "body is not JSON") from None
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list) or not events:
        raise WebhookRejected(400, "body needs a non-empty 'events' list")
    if len(events) > MAX_EVENTS:
        raise WebhookRejected(400, f"at most {MAX_EVENTS} events per request")
    return [_event(vendor, i, item) for i, item in enumerate(events)]


@csrf_exempt
@require_POST
def webhook_view(request: HttpRequest, vendor: str) -> JsonResponse:
    body = request.body
    try:
        if len(body) > MAX_BODY:
            raise WebhookRejected(413, "body too large")
        nonce = verify(vendor, request.headers, body)
        events = parse_events(vendor, body)
        use_nonce(vendor, nonce)  # last: a request refused as malformed may be fixed and re-signed
    except WebhookRejected as exc:
        log.info("webhook %s refused (%d): %s", vendor, exc.status, exc)
        return JsonResponse({"error": str(exc)}, status=exc.status)
    peer = request.META.get("REMOTE_ADDR", "")
    with transaction.atomic():
        fresh, duplicates = claim_event_ids(vendor, events)
        ordered = order_by_device_time(fresh)
        frames = [
            FrameIn(PROTOCOL, body, [e], peer=f"{vendor}@{peer}", identity=e.device_id) for e in ordered
        ]
        _stored, handed = store_batch(frames, f"webhook:{vendor}") if frames else ([], [])
    with _engine_lock:
        _engine.process(handed)
    return JsonResponse(
        {"stored": len(handed), "duplicates": duplicates, "event_ids": [h.event_id for h in handed]}
    )


def claim_event_ids(vendor: str, events: list[DeviceEvent]) -> tuple[list[DeviceEvent], int]:
    """Drop events whose vendor event id was already stored (or repeats within the request).

    Runs inside the storing transaction: if storing fails, the ids are not spent either. A
    concurrent request claiming the same id waits on the unique constraint and then finds it taken.
    """
    now = timezone.now()
    fresh: list[DeviceEvent] = []
    duplicates = 0
    for event in events:
        event_id = event.extra.get(EVENT_ID_KEY)
        if event_id is None:
            fresh.append(event)
            continue
        try:
            with transaction.atomic():
                VendorEventSeen.objects.create(
                    vendor=vendor,
                    event_id=event_id,
                    device_identity=event.device_id,
                    device_time=event.device_time,
                    received_at=now,
                )
        except IntegrityError:
            duplicates += 1
            continue
        fresh.append(event)
    if duplicates:
        log.info("webhook %s: %d duplicate event(s) ignored", vendor, duplicates)
    # Ids older than KEEP_DAYS are forgotten (a vendor does not retry for that long).
    VendorEventSeen.objects.filter(received_at__lt=now - timedelta(days=VendorEventSeen.KEEP_DAYS)).delete()
    return fresh, duplicates


def order_by_device_time(events: list[DeviceEvent]) -> list[DeviceEvent]:
    """Sort each device's events by device time and mark those older than what is stored as late.

    The newest device time per device is kept in `VendorDeviceClock` (rows locked for the
    transaction, so two concurrent deliveries for one device cannot both think they are newest).
    Events without a time keep their place after the timed ones and are never late.
    """
    timed = [e for e in events if e.device_time is not None]
    untimed = [e for e in events if e.device_time is None]
    if not timed:
        return untimed
    identities = sorted({e.device_id for e in timed})
    first = min(e.device_time for e in timed if e.device_time is not None)
    VendorDeviceClock.objects.bulk_create(
        [VendorDeviceClock(identity=i, latest_device_time=first) for i in identities], ignore_conflicts=True
    )
    clocks = {
        c.identity: c
        for c in VendorDeviceClock.objects.select_for_update()
        .filter(identity__in=identities)
        .order_by("identity")
    }
    ordered = sorted(timed, key=lambda e: (e.device_id, e.device_time))
    for event in ordered:
        clock = clocks[event.device_id]
        assert event.device_time is not None
        if event.device_time < clock.latest_device_time:
            event.archived = True  # late: stored and processed, but not as the latest state
        else:
            clock.latest_device_time = event.device_time
    for clock in clocks.values():
        clock.save(update_fields=["latest_device_time"])
    return ordered + untimed
