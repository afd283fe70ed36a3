"""Computing a month's settlement from the evidence (P3, F1).

Rules (docs/reports.md):
- A client is *eligible* for the basic package in a month when they are on the government basic
  package, were enrolled before the month ended, and their service did not end before it began.
- An eligible client is *billed* one person-month at the configured rate (30 yuan by default) only
  when service was actually delivered that month: at least one confirmed life-status check, answered
  care call, verified visit, handled alarm or recorded life sign. Eligible clients with nothing
  delivered are counted (`eligible_without_service`) but not billed. A client terminated mid-month
  who was served before the termination is billed for that month; from the next month they are not
  eligible.
- A client's first completed installation in the month is a first-installation line: the configured
  installation fee plus the subsidised value of the free basic terminal (inventory charges, F2).
- What clients pay themselves (F2: damage, price differences) is listed apart, never subsidised.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Min, Q

from .periods import month_bounds

EVIDENCE_IDS_KEPT = 50  # per kind and client; counts are always complete


def default_rate() -> Decimal:
    return Decimal(str(getattr(settings, "PINGANTONG_BASIC_RATE_YUAN", "30.00")))


def installation_fee() -> Decimal:
    return Decimal(str(getattr(settings, "PINGANTONG_FIRST_INSTALLATION_FEE_YUAN", "0.00")))


@dataclass
class ComputedLine:
    client_id: int
    client_name: str
    region_id: str
    kind: str
    amount: Decimal
    evidence: dict = field(default_factory=dict)
    evidence_count: int = 0


@dataclass
class ComputedSettlement:
    month: date
    region_code: str
    rate: Decimal
    lines: list[ComputedLine]
    eligible: int
    eligible_without_service: int

    def total(self, kind: str) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind == kind), Decimal("0"))

    def count(self, kind: str) -> int:
        return sum(1 for line in self.lines if line.kind == kind)


def eligible_clients(region_code: str, month: date):
    from pingantong.clients.choices import ClientStatus, PayingScheme
    from pingantong.clients.models import Client
    from pingantong.regions.models import prefix_of

    start, end = month_bounds(month)
    return (
        Client.objects.filter(
            region__code__startswith=prefix_of(region_code),
            paying_scheme=PayingScheme.BASIC_PACKAGE,
            enrolled_at__lt=end,
        )
        .exclude(status=ClientStatus.APPLYING)
        .filter(Q(service_end_date__isnull=True) | Q(service_end_date__gte=start.date()))
    )


def delivered_evidence(client_ids: list[int], month: date) -> dict[int, dict]:
    """Per client, the ids of what proves service was delivered in the month, by kind."""
    from pingantong.alarms.models import Alarm
    from pingantong.care.choices import CallResult, TaskKind, TaskOutcome, TaskStatus
    from pingantong.care.models import CareCall, LifeSign, Task, Visit

    start, end = month_bounds(month)
    evidence: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    sources = {
        "confirmations": Task.objects.filter(
            kind=TaskKind.CONFIRMATION,
            status=TaskStatus.DONE,
            outcome__in=[TaskOutcome.CONFIRMED_WELL, TaskOutcome.CONFIRMED_NEEDS_HELP],
            completed_at__gte=start,
            completed_at__lt=end,
        ),
        "calls": CareCall.objects.filter(result=CallResult.ANSWERED, at__gte=start, at__lt=end),
        "visits": Visit.objects.filter(verified=True, completed_at__gte=start, completed_at__lt=end),
        "alarms": Alarm.objects.filter(closed_at__gte=start, closed_at__lt=end).exclude(outcome=""),
        "life_signs": LifeSign.objects.filter(at__gte=start, at__lt=end),
    }
    wanted = set(client_ids)
    for kind, queryset in sources.items():
        rows = (
            queryset.filter(client_id__isnull=False)
            .values_list("client_id", "pk")
            .order_by("client_id", "pk")
        )
        for client_id, pk in rows.iterator(chunk_size=5000):
            if client_id not in wanted:
                continue
            counts[client_id][kind] += 1
            if len(evidence[client_id][kind]) < EVIDENCE_IDS_KEPT:
                evidence[client_id][kind].append(pk)
    result = {}
    for client_id, kinds in evidence.items():
        result[client_id] = dict(kinds)
        result[client_id]["counts"] = dict(counts[client_id])  # type: ignore[assignment]
    return result


def compute_settlement(*, region_code: str, month: date, rate: Decimal | None = None) -> ComputedSettlement:
    rate = default_rate() if rate is None else rate
    clients = list(eligible_clients(region_code, month).values_list("pk", "name", "region_id"))
    evidence = delivered_evidence([pk for pk, _n, _r in clients], month)
    lines: list[ComputedLine] = []
    without = 0
    for pk, name, region_id in clients:
        proof = evidence.get(pk)
        if not proof:
            without += 1
            continue
        count = sum(proof["counts"].values())  # type: ignore[attr-defined]
        lines.append(ComputedLine(pk, name, region_id, "basic", rate, proof, count))
    lines.extend(installation_lines(region_code, month))
    lines.extend(client_paid_lines(region_code, month))
    return ComputedSettlement(month, region_code, rate, lines, len(clients), without)


def installation_lines(region_code: str, month: date) -> list[ComputedLine]:
    from pingantong.inventory.choices import InstallationStatus
    from pingantong.inventory.models import Charge, Installation
    from pingantong.regions.models import prefix_of

    start, end = month_bounds(month)
    firsts = (
        Installation.objects.filter(
            status=InstallationStatus.DONE, region__code__startswith=prefix_of(region_code)
        )
        .values("client_id")
        .annotate(first=Min("completed_at"))
        .filter(first__gte=start, first__lt=end)
    )
    first_by_client = {row["client_id"]: row["first"] for row in firsts}
    if not first_by_client:
        return []
    installations = Installation.objects.filter(
        client_id__in=first_by_client, status=InstallationStatus.DONE
    ).select_related("client")
    subsidised: dict[int, Decimal] = defaultdict(Decimal)
    for client_id, amount in Charge.objects.filter(
        client_id__in=first_by_client, uses_basic_subsidy=True, voided_at__isnull=True
    ).values_list("client_id", "subsidy_amount"):
        subsidised[client_id] += Decimal(amount)
    lines = []
    for installation in installations:
        if installation.completed_at != first_by_client[installation.client_id]:
            continue
        amount = installation_fee() + subsidised[installation.client_id]
        lines.append(
            ComputedLine(
                installation.client_id,
                installation.client.name,
                installation.region_id,
                "installation",
                amount,
                {"installations": [installation.pk], "counts": {"installations": 1}},
                1,
            )
        )
    return lines


def client_paid_lines(region_code: str, month: date) -> list[ComputedLine]:
    from pingantong.inventory.models import Charge
    from pingantong.regions.models import prefix_of

    start, end = month_bounds(month)
    charges = Charge.objects.filter(
        region__code__startswith=prefix_of(region_code),
        created_at__gte=start,
        created_at__lt=end,
        voided_at__isnull=True,
        client_amount__gt=0,
    ).select_related("client")
    return [
        ComputedLine(
            c.client_id,
            c.client.name,
            c.region_id,
            "client_paid",
            Decimal(c.client_amount),
            {"charges": [c.pk], "kind": c.kind, "counts": {"charges": 1}},
            1,
        )
        for c in charges
    ]
