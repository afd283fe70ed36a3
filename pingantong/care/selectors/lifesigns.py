"""Life signs per client: the latest proof that the *person* is alive, merged from the devices app
(DeviceState.last_life_sign_at: steps, vitals, SOS, sensors) and from care work (LifeSign: answered
calls, visits). A heartbeat moves only `last_device_seen_at`: it is shown as "device alive", never
as a life sign (S04, S05)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import FieldError
from django.db.models import Max

from ..models import LifeSign


@dataclass
class LifeStatus:
    """What we know of one client's life signs, for the client page widget and worklist column."""

    client_id: int
    last_life_sign_at: dt.datetime | None = None
    source: str = ""
    origin: str = ""  # "device" or "care"
    evidence: dict = field(default_factory=dict)
    last_device_seen_at: dt.datetime | None = None

    def consider(
        self, at: dt.datetime | None, source: str, origin: str, evidence: dict | None = None
    ) -> None:
        if at is not None and (self.last_life_sign_at is None or at > self.last_life_sign_at):
            self.last_life_sign_at, self.source, self.origin = at, source, origin
            self.evidence = evidence or {}

    @property
    def device_only(self) -> bool:
        """The device spoke after the person last showed a sign of life: it proves the device only."""
        return self.last_device_seen_at is not None and (
            self.last_life_sign_at is None or self.last_device_seen_at > self.last_life_sign_at
        )

    def age(self, now: dt.datetime) -> dt.timedelta | None:
        return None if self.last_life_sign_at is None else now - self.last_life_sign_at


def _device_rows(client_ids: Iterable[int] | None, since: dt.datetime | None):
    """(client_id, last_life_sign_at, source, last_device_seen_at, device_id) from the devices app.

    Read through the ORM so that the bulk sweep costs one query; empty while the devices app has no
    client binding (the FieldError guard keeps care working while that app is being built)."""
    try:
        from pingantong.devices.models import DeviceState
        from pingantong.devices.selectors import current_life_sign_at, life_sign_of_current_binding
    except ImportError:  # pragma: no cover - devices app not installed
        return []
    try:
        qs = DeviceState.objects.filter(device__client__isnull=False)
        if client_ids is not None:
            qs = qs.filter(device__client_id__in=list(client_ids))
        if since is not None:
            qs = qs.filter(life_sign_of_current_binding(), last_life_sign_at__gte=since)
        # A sign from before the device's current binding is the previous client's (decision 0111).
        return list(
            qs.annotate(life_at=current_life_sign_at()).values_list(
                "device__client_id",
                "life_at",
                "last_life_sign_source",
                "last_device_seen_at",
                "device_id",
            )
        )
    except FieldError:  # pragma: no cover - devices without client binding yet
        return []


def life_statuses(client_ids: Iterable[int]) -> dict[int, LifeStatus]:
    """LifeStatus of each client in `client_ids`, in three queries whatever their number."""
    ids = list(client_ids)
    result = {cid: LifeStatus(client_id=cid) for cid in ids}
    if not ids:
        return result
    for cid, at, source, seen, device_id in _device_rows(ids, None):
        status = result[cid]
        status.consider(at, source, "device", {"device": device_id})
        if seen is not None and (status.last_device_seen_at is None or seen > status.last_device_seen_at):
            status.last_device_seen_at = seen
    latest = (
        LifeSign.objects.filter(client_id__in=ids)
        .values("client_id")
        .annotate(at=Max("at"))
        .values_list("client_id", "at")
    )
    wanted = dict(latest)
    if wanted:
        rows = LifeSign.objects.filter(client_id__in=list(wanted), at__in=set(wanted.values())).values_list(
            "client_id", "at", "source", "evidence"
        )
        for cid, at, source, evidence in rows:
            if wanted.get(cid) == at:
                result[cid].consider(at, source, "care", evidence)
    return result


def life_status(client_id: int) -> LifeStatus:
    return life_statuses([client_id])[client_id]


def clients_with_life_sign_since(since: dt.datetime) -> set[int]:
    """Every client with a life sign (device or care) at or after `since`: the daily sweep's one read
    of life signs, two queries for any number of clients."""
    from pingantong.devices.models import DeviceState
    from pingantong.devices.selectors import life_sign_of_current_binding

    found = set(
        DeviceState.objects.filter(
            life_sign_of_current_binding(), device__client__isnull=False, last_life_sign_at__gte=since
        ).values_list("device__client_id", flat=True)
    )
    found.update(LifeSign.objects.filter(at__gte=since).values_list("client_id", flat=True).distinct())
    return found
