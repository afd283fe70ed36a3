"""Writes to the client record, its contacts, consent and preferences (typed, keyword-only, one
transaction each; side effects after commit). Bad input raises ValidationError naming the field and
changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingantong.regions.models import Region, RegionLevel

from .. import crypto
from ..choices import (
    Category,
    ClientStatus,
    ConsentPurpose,
    FrequencyRequestStatus,
    HomeLocationSource,
)
from ..idnumber import IDNumberError, validate_client_id_number
from ..models import Client, Consent, Contact, FrequencyChangeRequest
from ..signals import client_changed, consent_changed, send_on_commit

# Fields a form or import may set directly (the ID number is handled apart).
CLIENT_FIELDS = (
    "name",
    "household_region_code",
    "region_id",
    "address",
    "home_lat",
    "home_lon",
    "home_location_source",
    "phone",
    "phone2",
    "dialect",
    "living_situation",
    "categories",
    "risk_tier",
    "ability_grade",
    "medical_notes",
    "allergies",
    "key_holder",
    "access_notes",
    "paying_scheme",
    "monthly_price",
    "quiet_hours_start",
    "quiet_hours_end",
    "preferred_call_times",
    "notes",
)


def duplicate_of(id_number: str, *, exclude_pk: int | None = None) -> Client | None:
    qs = Client.objects.filter(id_number_hmac=crypto.blind_index(id_number))
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.select_related("region").first()


def duplicate_message(existing: Client) -> str:
    return _("This ID number is already registered: %(name)s, %(village)s (%(status)s).") % {
        "name": existing.name,
        "village": existing.region.display_name if existing.region_id else "-",
        "status": existing.get_status_display(),
    }


def check_id_number(id_number: str, *, exclude_pk: int | None = None) -> str:
    """A valid, not yet registered ID number (normalised), or ValidationError on `id_number`."""
    try:
        facts = validate_client_id_number(id_number)
    except IDNumberError as exc:
        raise ValidationError({"id_number": exc.message}, code=exc.code) from None
    existing = duplicate_of(facts.number, exclude_pk=exclude_pk)
    if existing is not None:
        raise ValidationError({"id_number": duplicate_message(existing)}, code="duplicate")
    return facts.number


def is_phone_number(value: str) -> bool:
    """Mainland mobile or landline as staff type them: digits with optional dashes/spaces, 7–20 long."""
    digits = value.replace("-", "").replace(" ", "")
    return digits.lstrip("+").isdigit() and 7 <= len(digits) <= 20


def _hhmm(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def check_time_windows(value: Any) -> list[list[str]]:
    """`[["09:00", "11:00"], …]`: each window two local HH:MM times, start before end."""
    error = ValidationError({"preferred_call_times": _('Give windows like [["09:00", "11:00"]].')})
    if not isinstance(value, list):
        raise error
    windows = []
    for window in value:
        if not (isinstance(window, list | tuple) and len(window) == 2):
            raise error
        try:
            start, end = (_hhmm(str(t)) for t in window)
        except (ValueError, TypeError):
            raise error from None
        if start >= end:
            raise error
        windows.append([start.strftime("%H:%M"), end.strftime("%H:%M")])
    return windows


def _clean_fields(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(CLIENT_FIELDS)
    if unknown:
        raise ValidationError({f: _("This field cannot be set here.") for f in sorted(unknown)})
    if "categories" in values:
        bad = [c for c in values["categories"] if c not in Category.values]
        if bad:
            raise ValidationError({"categories": _("Unknown category: %(v)s") % {"v": ", ".join(bad)}})
        values["categories"] = sorted(set(values["categories"]), key=Category.values.index)
    if (
        "region_id" in values
        and not Region.objects.filter(code=values["region_id"], level=RegionLevel.VILLAGE).exists()
    ):
        raise ValidationError(
            {"region": _("Choose the client's village or community (a 12-digit village code).")}
        )
    for name in ("phone", "phone2"):
        if values.get(name) and not is_phone_number(values[name]):
            raise ValidationError({name: _("Not a phone number: %(p)s") % {"p": values[name]}})
    if values.get("home_location_source") not in (None, *HomeLocationSource.values):
        raise ValidationError({"home_location_source": _("Unknown source.")})
    if "preferred_call_times" in values:
        values["preferred_call_times"] = check_time_windows(values["preferred_call_times"])
    for coord, low, high in (("home_lat", -90, 90), ("home_lon", -180, 180)):
        value = values.get(coord)
        if value is not None and not low <= float(value) <= high:
            raise ValidationError({coord: _("Out of range for WGS-84.")})
    return values


@transaction.atomic
def register_client(*, id_number: str, by: Any, status: str = ClientStatus.APPLYING, **values: Any) -> Client:
    """Create a client after checking the ID number (valid, 60+, not a duplicate)."""
    number = check_id_number(id_number)
    client = Client(
        created_by=by if getattr(by, "pk", None) else None, status=status, **_clean_fields(values)
    )
    client.id_number = number
    if status == ClientStatus.ACTIVE:
        client.enrolled_at = timezone.now()
    client.full_clean(exclude=["id_number_hmac", "created_by"])
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError:  # a concurrent registration of the same number
        raise ValidationError(
            {"id_number": _("This ID number is already registered.")}, code="duplicate"
        ) from None
    send_on_commit(client_changed, Client, client=client, fields=["created"])
    return client


@transaction.atomic
def update_client(*, client: Client, by: Any, id_number: str | None = None, **values: Any) -> Client:
    """Change fields of a client; the ID number only when given and different."""
    changed = []
    if id_number is not None and id_number.strip() and crypto.blind_index(id_number) != client.id_number_hmac:
        client.id_number = check_id_number(id_number, exclude_pk=client.pk)
        changed += ["id_number_encrypted", "id_number_hmac", "id_number_masked", "birth_date", "gender"]
    for name, value in _clean_fields(values).items():
        if getattr(client, name) != value:
            setattr(client, name, value)
            changed.append(name)
    if not changed:
        return client
    client.full_clean(exclude=["id_number_hmac", "created_by"])
    client.save(update_fields=[*changed, "updated_at"])
    send_on_commit(client_changed, Client, client=client, fields=changed)
    return client


@transaction.atomic
def set_home_location(*, client: Client, lat: float, lon: float, source: str, by: Any) -> Client:
    """Home coordinates (WGS-84) from a map pin or the installer's check-in."""
    if source not in HomeLocationSource.values:
        raise ValidationError({"home_location_source": _("Unknown source.")})
    _clean_fields({"home_lat": lat, "home_lon": lon})
    client.home_lat, client.home_lon, client.home_location_source = lat, lon, source
    client.save(update_fields=["home_lat", "home_lon", "home_location_source", "updated_at"])
    send_on_commit(client_changed, Client, client=client, fields=["home_lat", "home_lon"])
    return client


@transaction.atomic
def add_contact(*, client: Client, by: Any, **values: Any) -> Contact:
    for name in ("phone", "phone2"):
        if values.get(name) and not is_phone_number(values[name]):
            raise ValidationError({name: _("Not a phone number: %(p)s") % {"p": values[name]}})
    values.setdefault(
        "priority",
        (client.contacts.order_by("-priority").values_list("priority", flat=True).first() or 0) + 1,
    )
    contact = Contact(client=client, **values)
    contact.full_clean()
    contact.save()
    return contact


@transaction.atomic
def reorder_contacts(*, client: Client, contact_ids: list[int], by: Any) -> None:
    """Set the calling order to `contact_ids` (all of the client's contacts, first to call first)."""
    contacts = {c.pk: c for c in client.contacts.all()}
    if set(contact_ids) != set(contacts):
        raise ValidationError({"contacts": _("Give every contact of this client exactly once.")})
    for position, pk in enumerate(contact_ids, start=1):
        if contacts[pk].priority != position:
            contacts[pk].priority = position
            contacts[pk].save(update_fields=["priority", "updated_at"])


@transaction.atomic
def move_contact(*, contact: Contact, by: Any, up: bool = True) -> None:
    """Swap a contact with the one before (or after) it in the calling order."""
    order = list(
        Contact.objects.select_for_update().filter(client_id=contact.client_id).order_by("priority", "id")
    )
    index = next(i for i, c in enumerate(order) if c.pk == contact.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
        reorder_contacts(client=contact.client, contact_ids=[c.pk for c in order], by=by)


@transaction.atomic
def remove_contact(*, contact: Contact, by: Any) -> None:
    """Delete a contact and close the gap in the calling order."""
    client = contact.client
    contact.delete()
    rest = list(client.contacts.order_by("priority", "id").values_list("pk", flat=True))
    reorder_contacts(client=client, contact_ids=rest, by=by)


@transaction.atomic
def record_consent(
    *,
    client: Client,
    purpose: str,
    granted: bool,
    method: str,
    by: Any,
    effective_at: dt.datetime | None = None,
    given_by: str = "",
    notes: str = "",
) -> Consent:
    """Append a grant or withdrawal; effective immediately unless `effective_at` says later (X2)."""
    if purpose not in ConsentPurpose.values:
        raise ValidationError({"purpose": _("Unknown purpose.")})
    consent = Consent(
        client=client,
        purpose=purpose,
        granted=granted,
        method=method,
        given_by=given_by,
        notes=notes,
        effective_at=effective_at or timezone.now(),
        recorded_by=by if getattr(by, "pk", None) else None,
    )
    consent.full_clean(exclude=["recorded_by"])
    consent.save()
    send_on_commit(consent_changed, Client, client=client, consent=consent)
    return consent


@transaction.atomic
def request_frequency_change(
    *, client: Client, kind: str, interval_days: int, by: Any, reason: str = "", requested_via: str = ""
) -> FrequencyChangeRequest:
    """Record the client's request (Q2); nothing changes until the client confirms it."""
    if interval_days < 1 or interval_days > 365:
        raise ValidationError({"interval_days": _("Between 1 and 365 days.")})
    request = FrequencyChangeRequest(
        client=client,
        kind=kind,
        interval_days=interval_days,
        reason=reason,
        requested_via=requested_via,
        recorded_by=by if getattr(by, "pk", None) else None,
    )
    request.full_clean(exclude=["recorded_by", "confirmed_by"])
    request.save()
    return request


@transaction.atomic
def confirm_frequency_change(
    *, request: FrequencyChangeRequest, method: str, by: Any
) -> FrequencyChangeRequest:
    """The client confirmed: apply the new interval to the client, read by the care scheduler."""
    request = FrequencyChangeRequest.objects.select_for_update().select_related("client").get(pk=request.pk)
    if request.status != FrequencyRequestStatus.AWAITING_CONFIRMATION:
        raise ValidationError({"status": _("This request is not awaiting confirmation.")})
    request.status = FrequencyRequestStatus.CONFIRMED
    request.confirmed_at = timezone.now()
    request.confirmation_method = method
    request.confirmed_by = by if getattr(by, "pk", None) else None
    request.save(update_fields=["status", "confirmed_at", "confirmation_method", "confirmed_by"])
    field = "call_interval_days" if request.kind == "call" else "visit_interval_days"
    client = request.client
    setattr(client, field, request.interval_days)
    client.save(update_fields=[field, "updated_at"])
    send_on_commit(client_changed, Client, client=client, fields=[field])
    return request
