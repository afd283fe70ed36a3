"""Settlement workflow (P3): the agency prepares and submits, the bureau queries, approves or returns.

An approved month is frozen: `prepare_settlement` refuses to recompute it, so later changes to the
records never alter what was paid.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingantong.care.bulk import bulk_insert

from .models import Settlement, SettlementLine, SettlementStatus
from .periods import month_start
from .settlement import compute_settlement


@transaction.atomic
def prepare_settlement(*, region_code: str, month: date, rate: Decimal | None = None) -> Settlement:
    """Compute (or recompute) a month's lines from the evidence. Refused once submitted or approved."""
    month = month_start(month)
    settlement = Settlement.objects.select_for_update().filter(region_id=region_code, month=month).first()
    if settlement is not None and settlement.status in (
        SettlementStatus.SUBMITTED,
        SettlementStatus.APPROVED,
    ):
        raise ValidationError(
            _("The settlement for %(month)s is %(status)s and cannot be recomputed.")
            % {"month": f"{month:%Y-%m}", "status": settlement.get_status_display()}
        )
    computed = compute_settlement(region_code=region_code, month=month, rate=rate)
    if settlement is None:
        settlement = Settlement(region_id=region_code, month=month, rate=computed.rate)
    settlement.rate = computed.rate
    settlement.person_months = computed.count("basic")
    settlement.basic_amount = computed.total("basic")
    settlement.installation_count = computed.count("installation")
    settlement.installation_amount = computed.total("installation")
    settlement.client_paid_amount = computed.total("client_paid")
    settlement.eligible_without_service = computed.eligible_without_service
    settlement.computed_at = timezone.now()
    if settlement.status == SettlementStatus.RETURNED:
        settlement.status = SettlementStatus.DRAFT
    settlement.save()
    SettlementLine.objects.filter(settlement=settlement).delete()
    # 90,000 lines for a district: multi-row INSERTs with the constant columns prepared once
    # (pingantong.care.bulk); the ORM's bulk_create spent most of the settlement's time building
    # and preparing model instances (docs/benchmarks.md, "Reports").
    bulk_insert(
        SettlementLine,
        SettlementLine(settlement=settlement),
        ["region_id", "client_id", "client_name", "kind", "amount", "evidence", "evidence_count"],
        [
            [
                line.region_id,
                line.client_id,
                line.client_name,
                line.kind,
                line.amount,
                line.evidence,
                line.evidence_count,
            ]
            for line in computed.lines
        ],
    )
    return settlement


def _transition(settlement: Settlement, allowed: tuple[str, ...], action: str) -> Settlement:
    locked = Settlement.objects.select_for_update().get(pk=settlement.pk)
    if locked.status not in allowed:
        raise ValidationError(
            _("Cannot %(action)s a settlement that is %(status)s.")
            % {"action": action, "status": locked.get_status_display()}
        )
    return locked


@transaction.atomic
def submit_settlement(*, settlement: Settlement, user) -> Settlement:
    locked = _transition(settlement, (SettlementStatus.DRAFT,), _("submit"))
    locked.status = SettlementStatus.SUBMITTED
    locked.submitted_at = timezone.now()
    locked.submitted_by = user
    locked.save(update_fields=["status", "submitted_at", "submitted_by"])
    return locked


@transaction.atomic
def query_line(*, line: SettlementLine, user, question: str) -> SettlementLine:
    """The bureau questions a single line; the month cannot be approved while a query is open."""
    if not question.strip():
        raise ValidationError({"query": _("Say what is in question.")})
    _transition(line.settlement, (SettlementStatus.SUBMITTED,), _("query"))
    line.query = question.strip()
    line.queried_at = timezone.now()
    line.answer = ""
    line.answered_at = None
    line.save(update_fields=["query", "queried_at", "answer", "answered_at"])
    return line


@transaction.atomic
def answer_query(*, line: SettlementLine, user, answer: str) -> SettlementLine:
    if not line.query:
        raise ValidationError(_("This line has no open query."))
    if not answer.strip():
        raise ValidationError({"answer": _("Write the answer.")})
    line.answer = answer.strip()
    line.answered_at = timezone.now()
    line.save(update_fields=["answer", "answered_at"])
    return line


@transaction.atomic
def approve_settlement(*, settlement: Settlement, user, note: str = "") -> Settlement:
    locked = _transition(settlement, (SettlementStatus.SUBMITTED,), _("approve"))
    if locked.lines.filter(queried_at__isnull=False, answered_at__isnull=True).exists():
        raise ValidationError(_("Some queried lines have not been answered yet."))
    locked.status = SettlementStatus.APPROVED
    locked.reviewed_at = timezone.now()
    locked.reviewed_by = user
    locked.review_note = note
    locked.save(update_fields=["status", "reviewed_at", "reviewed_by", "review_note"])
    return locked


@transaction.atomic
def return_settlement(*, settlement: Settlement, user, note: str) -> Settlement:
    if not note.strip():
        raise ValidationError({"note": _("Give the reason for returning the settlement.")})
    locked = _transition(settlement, (SettlementStatus.SUBMITTED,), _("return"))
    locked.status = SettlementStatus.RETURNED
    locked.reviewed_at = timezone.now()
    locked.reviewed_by = user
    locked.review_note = note.strip()
    locked.save(update_fields=["status", "reviewed_at", "reviewed_by", "review_note"])
    return locked
