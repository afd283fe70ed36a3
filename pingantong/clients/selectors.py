"""Reads of the clients app. Other apps read consent and contacts through these functions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast

from pingantong.core.access import prefix_range
from pingantong.core.drf import page_of as _page_of

from .choices import ConsentPurpose
from .models import Client, Consent, Contact


def latest_consent(client: Client | int, purpose: str) -> Consent | None:
    """The latest consent record of `client` for `purpose` (None if never recorded)."""
    client_id = client if isinstance(client, int) else client.pk
    return (
        Consent.objects.filter(client_id=client_id, purpose=purpose).order_by("-effective_at", "-id").first()
    )


def has_consent(client: Client | int, purpose: str | ConsentPurpose) -> bool:
    """Does the client's *current* recorded wish allow `purpose`? Never recorded = no (X2).

    Read at every use, never cached: a withdrawal is effective from the moment it is recorded.
    Purposes: location_query (S07), location_share (S08), health_data (S22–S24), provincial_sync (I2).
    """
    from django.utils import timezone

    client_id = client if isinstance(client, int) else client.pk
    record = (
        Consent.objects.filter(client_id=client_id, purpose=str(purpose), effective_at__lte=timezone.now())
        .order_by("-effective_at", "-id")
        .values_list("granted", flat=True)
        .first()
    )
    return bool(record)


def consent_states(client: Client) -> dict[str, Consent | None]:
    """Every purpose → its latest record (for the client page)."""
    latest: dict[str, Consent | None] = dict.fromkeys(ConsentPurpose.values)
    for record in (
        Consent.objects.filter(client=client)
        .select_related("recorded_by")
        .order_by("purpose", "-effective_at", "-id")
    ):
        if latest.get(record.purpose) is None:
            latest[record.purpose] = record
    return latest


def with_consent(queryset: QuerySet[Client], purpose: str | ConsentPurpose) -> QuerySet[Client]:
    """`queryset` cut to the clients whose latest consent for `purpose` is a grant (bulk form)."""
    from django.utils import timezone

    latest_granted = (
        Consent.objects.filter(client=OuterRef("pk"), purpose=str(purpose), effective_at__lte=timezone.now())
        .order_by("-effective_at", "-id")
        .values("granted")[:1]
    )
    return queryset.annotate(_consent=Subquery(latest_granted)).filter(_consent=True)


def contacts_in_order(client: Client) -> list[Contact]:
    """Emergency contacts in calling order (priority 1 first)."""
    return list(client.contacts.order_by("priority", "id"))


def filter_category(queryset: QuerySet[Client], categories: Iterable[str]) -> QuerySet[Client]:
    """Clients holding any of `categories` (JSON list): jsonb containment on PostgreSQL, text match on
    SQLite. Category values are distinct lowercase words, so the quoted match cannot misfire."""
    wanted = [c for c in categories if c]
    if not wanted:
        return queryset
    if connection.vendor == "postgresql":
        q = Q()
        for value in wanted:
            q |= Q(categories__contains=[value])
        return queryset.filter(q)
    annotated = queryset.annotate(_categories_text=Cast("categories", TextField()))
    q = Q()
    for value in wanted:
        q |= Q(_categories_text__contains=f'"{value}"')
    return annotated.filter(q)


def _looks_like_id_number(text: str) -> bool:
    t = text.strip().upper()
    return len(t) in (15, 18) and t[:-1].isdigit() and (t[-1].isdigit() or t[-1] == "X")


def region_range(prefix: str) -> Q:
    """Codes starting with `prefix`, as a range the B-tree index can serve (`LIKE … ESCAPE` cannot on
    SQLite; pingantong.core.access.prefix_range)."""
    return prefix_range("region_id", prefix)


def search_clients(queryset: QuerySet[Client], params: Any) -> QuerySet[Client]:
    """The list's search and filters. `q`: a full ID number (blind-index lookup), digits (phone), or
    text (name, or the name of a village). Filters: category, risk_tier, status, region (a code: its
    subtree).

    Substring search cannot use an index, so it runs as `id IN (SELECT id … )` over the narrow covering
    indexes (name, region) and (phone, phone2, region) instead of the wide table: with 100,000 clients
    a search that matches nothing reads ~3 MB of index instead of ~40 MB of rows (docs/clients.md).
    """
    from pingantong.regions.models import Region, prefix_of

    from . import crypto

    q = (params.get("q") or "").strip()
    if q:
        if _looks_like_id_number(q):
            queryset = queryset.filter(id_number_hmac=crypto.blind_index(q))
        elif q.isdigit():
            matches = Client.objects.filter(Q(phone__contains=q) | Q(phone2__contains=q)).values("pk")
            queryset = queryset.filter(pk__in=matches)
        else:
            condition = Q(pk__in=Client.objects.filter(name__contains=q).values("pk"))
            villages = list(Region.objects.filter(short_name__contains=q).values_list("code", flat=True)[:50])
            if villages:
                for code in villages:
                    condition |= region_range(prefix_of(code))
            queryset = queryset.filter(condition)
    if params.get("category"):
        queryset = filter_category(queryset, [params["category"]])
    if params.get("risk_tier"):
        queryset = queryset.filter(risk_tier=params["risk_tier"])
    if params.get("status"):
        queryset = queryset.filter(status=params["status"])
    region = (params.get("region") or "").strip()
    if region:
        try:
            queryset = queryset.filter(region_range(prefix_of(region)))
        except (ValueError, KeyError):
            queryset = queryset.none()
    return queryset


def page_of(queryset: QuerySet[Client], page: int, size: int) -> tuple[list[Client], bool]:
    """One page and whether another follows, without COUNT(*) over the whole (restricted) table."""
    return _page_of(queryset, max(page, 1), size)
