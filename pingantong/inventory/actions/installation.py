"""The installation visit (D3, D4): start, home test, check-in, bind, activation check, SIM real
name, photos, completion with teaching and confirmation. Each step validates and changes nothing
on bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import (
    TEACHING_CHECKLIST,
    ConfirmedBy,
    InstallationStatus,
    SimRealName,
    StockAction,
    StockState,
)
from ..models import Installation, InstallationItem, InstallationPhoto, StockItem
from ..recommend import HomeTest, recommend_types
from .assignment import assign_stock_item
from .stock import StockError, _locked, record_transition


class InstallationError(ValueError):
    """An installation step that cannot be done yet or was given bad input; nothing changed."""


def checkin_radius_m() -> float:
    return float(getattr(settings, "PINGANTONG_INSTALL_CHECKIN_RADIUS_M", 200))


def _open(installation: Installation) -> None:
    if installation.status != InstallationStatus.OPEN:
        raise InstallationError(
            _("This installation is already %(s)s.") % {"s": installation.get_status_display()}
        )


@transaction.atomic
def start_installation(*, client: Any, installer: Any, now: dt.datetime | None = None) -> Installation:
    """Open an installation visit for a client (one open visit per client at a time)."""
    existing = Installation.objects.filter(client=client, status=InstallationStatus.OPEN).first()
    if existing is not None:
        return existing
    return Installation.objects.create(
        client=client, region_id=client.region_id, installer=installer, started_at=now or timezone.now()
    )


@transaction.atomic
def record_home_test(
    *,
    installation: Installation,
    carrier: str = "",
    signal_dbm: int | None = None,
    signal_bars: int | None = None,
    mobility: str,
    hearing_ok: bool = True,
    can_press_button: bool = True,
    cognition_ok: bool = True,
    uses_gas: bool = False,
    lives_alone: bool = False,
    wishes: str = "",
) -> Installation:
    """Store the home test (signal measured on site, the client's condition and wishes) and the
    device types it recommends (D3)."""
    _open(installation)
    if signal_dbm is None and signal_bars is None:
        raise InstallationError(_("Measure the mobile signal in the home (dBm or bars)."))
    if signal_dbm is not None and not -140 <= signal_dbm <= -30:
        raise InstallationError(_("A signal strength is between -140 and -30 dBm."))
    if signal_bars is not None and not 0 <= signal_bars <= 5:
        raise InstallationError(_("Signal bars are 0 to 5."))
    test = HomeTest(
        signal_dbm,
        signal_bars,
        mobility,
        hearing_ok,
        can_press_button,
        cognition_ok,
        uses_gas,
        lives_alone,
        wishes,
    )
    reasons = recommend_types(test)
    for name, value in {
        "carrier": carrier,
        "signal_dbm": signal_dbm,
        "signal_bars": signal_bars,
        "mobility": mobility,
        "hearing_ok": hearing_ok,
        "can_press_button": can_press_button,
        "cognition_ok": cognition_ok,
        "uses_gas": uses_gas,
        "lives_alone": lives_alone,
        "wishes": wishes,
        "recommended_types": list(reasons),
        "recommendation_reasons": {k: str(v) for k, v in reasons.items()},
        "tested_at": timezone.now(),
    }.items():
        setattr(installation, name, value)
    installation.save()
    return installation


@transaction.atomic
def check_in_installation(
    *,
    installation: Installation,
    latitude: float | None,
    longitude: float | None,
    accuracy_m: float | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Installation:
    """Geotagged check-in at the home; away from the recorded home (or without a location) a reason
    is required."""
    from pingantong.care.geo import haversine_m

    _open(installation)
    client = installation.client
    distance = None
    if latitude is not None and longitude is not None:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise InstallationError(_("That is not a location."))
        if client.home_lat is None or client.home_lon is None:
            # No home recorded yet: the installer standing in the home is the best source there is.
            from pingantong.clients.actions import set_home_location

            set_home_location(client=client, lat=latitude, lon=longitude, source="installer_checkin", by=None)
        distance = haversine_m(latitude, longitude, client.home_lat, client.home_lon)  # type: ignore[arg-type]
    if (distance is None or distance > checkin_radius_m()) and not reason.strip():
        raise InstallationError(
            _("You are not within %(m)d m of the home (or no location): give a reason.")
            % {"m": checkin_radius_m()}
        )
    installation.checkin_at = now or timezone.now()
    installation.checkin_lat, installation.checkin_lon = latitude, longitude
    installation.checkin_accuracy_m = accuracy_m
    installation.distance_m = distance
    installation.off_site_reason = reason.strip()[:200]
    installation.save()
    return installation


@transaction.atomic
def bind_installation_device(
    *, installation: Installation, item: StockItem, by: Any = None, now: dt.datetime | None = None
) -> InstallationItem:
    """Bind a device to the client in this visit: assign it from stock (subsidy rules, charge) or
    take the one already assigned to this client. The activation check waits for a message after
    `bound_at`."""
    _open(installation)
    if installation.tested_at is None:
        raise InstallationError(_("Do the home test first: it decides the device types."))
    item = _locked(item)
    if item.state == StockState.IN_STOCK:
        item, _charge = assign_stock_item(item=item, client=installation.client, by=by)
    elif not (item.state == StockState.ASSIGNED and item.client_id == installation.client_id):
        raise InstallationError(
            _("Device %(serial)s is %(state)s and cannot be installed for this client.")
            % {"serial": item.serial, "state": item.get_state_display()}
        )
    line, _created = InstallationItem.objects.get_or_create(
        installation=installation,
        item=item,
        defaults={"bound_at": now or timezone.now(), "region_id": installation.region_id},
    )
    return line


def check_activation(*, line: InstallationItem) -> bool:
    """Has the device sent its first real message through the gateway since it was bound? Records
    the first event once seen (idempotent; called by the page's polling)."""
    from pingantong.devices.models import DeviceEventRecord

    if line.activated_at is not None:
        return True
    device_id = line.item.device_id
    if device_id is None:
        return False
    event = (
        DeviceEventRecord.objects.filter(device_id=device_id, received_at__gte=line.bound_at)
        .order_by("received_at", "id")
        .first()
    )
    if event is None:
        return False
    InstallationItem.objects.filter(pk=line.pk, activated_at__isnull=True).update(
        activated_at=event.received_at, first_event=event
    )
    line.activated_at, line.first_event = event.received_at, event
    return True


@transaction.atomic
def confirm_sim_real_name(*, item: StockItem, by: Any = None) -> StockItem:
    """The installer saw the SIM's real-name registration (实名登记) confirmed (D4)."""
    if not item.iccid and not item.sim_number:
        raise InstallationError(_("Device %(serial)s has no SIM.") % {"serial": item.serial})
    item.sim_real_name = SimRealName.REGISTERED
    item.sim_real_name_confirmed_at = timezone.now()
    item.save(update_fields=["sim_real_name", "sim_real_name_confirmed_at", "updated_at"])
    return item


@transaction.atomic
def add_installation_photo(*, installation: Installation, image: Any) -> InstallationPhoto:
    if image is None or getattr(image, "size", 0) > 8 * 1024 * 1024:
        raise InstallationError(_("Attach a photo of at most 8 MB."))
    return InstallationPhoto.objects.create(
        installation=installation, image=image, uploaded_at=timezone.now()
    )


def missing_for_completion(installation: Installation, taught: list[str] | None = None) -> list[str]:
    """What is still missing before the visit can be completed (shown as a checklist)."""
    missing: list[str] = []
    if installation.checkin_at is None:
        missing.append(_("Check in at the home"))
    if installation.tested_at is None:
        missing.append(_("Home test"))
    lines = list(installation.items.select_related("item"))
    if not lines:
        missing.append(_("Bind at least one device"))
    for line in lines:
        if line.activated_at is None:
            missing.append(_("Activation of %(serial)s (first message)") % {"serial": line.item.serial})
        if (line.item.iccid or line.item.sim_number) and line.item.sim_real_name != SimRealName.REGISTERED:
            missing.append(_("SIM real-name registration of %(serial)s") % {"serial": line.item.serial})
    done = set(taught if taught is not None else installation.taught)
    for key, label in TEACHING_CHECKLIST:
        if key not in done:
            missing.append(_("Teach: %(item)s") % {"item": label})
    return missing


@transaction.atomic
def complete_installation(
    *,
    installation: Installation,
    taught: list[str],
    confirmed_by: str,
    confirmed_name: str,
    notes: str = "",
    by: Any = None,
) -> Installation:
    """Close the visit: every device active, SIMs real-name registered, the client taught, and the
    client or family confirmed. The devices become `installed`; the record is the evidence for the
    first-installation cost (F1, P3)."""
    installation = Installation.objects.select_for_update().get(pk=installation.pk)
    _open(installation)
    if confirmed_by not in ConfirmedBy.values or not confirmed_name.strip():
        raise InstallationError(_("The client or a family member must confirm, with their name."))
    missing = missing_for_completion(installation, taught)
    if missing:
        raise InstallationError(_("Not complete yet: %(list)s.") % {"list": "; ".join(missing)})
    for line in installation.items.select_related("item"):
        item = _locked(line.item)
        if item.state == StockState.ASSIGNED:
            try:
                record_transition(
                    item=item, action=StockAction.INSTALL, by=by, data={"installation_id": installation.pk}
                )
            except StockError as exc:
                raise InstallationError(str(exc)) from None
    now = timezone.now()
    installation.taught = sorted(set(taught))
    installation.confirmed_by = confirmed_by
    installation.confirmed_name = confirmed_name.strip()[:50]
    installation.confirmed_at = now
    installation.notes = notes
    installation.status = InstallationStatus.DONE
    installation.completed_at = now
    installation.save()
    return installation


@transaction.atomic
def cancel_installation(*, installation: Installation, reason: str, by: Any = None) -> Installation:
    """Abandon a visit (the client changed their mind, wrong address): devices bound in it go back
    to stock and their charges are voided; activated history stays on the record."""
    from .stock import cancel_assignment

    installation = Installation.objects.select_for_update().get(pk=installation.pk)
    _open(installation)
    if not reason.strip():
        raise InstallationError(_("Say why the installation is cancelled."))
    for line in installation.items.select_related("item"):
        if line.item.state == StockState.ASSIGNED:
            cancel_assignment(item=line.item, by=by, reason=reason)
    installation.status = InstallationStatus.CANCELLED
    installation.notes = (installation.notes + "\n" + reason).strip()
    installation.save(update_fields=["status", "notes"])
    return installation
