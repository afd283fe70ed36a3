"""Psychological support and referrals (S16–S21)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import signals
from ..choices import (
    CounsellingMode,
    PartnerKind,
    ReferralKind,
    ReferralStatus,
    TaskKind,
    TaskOutcome,
    TaskSource,
)
from ..models import (
    Activity,
    ActivitySignup,
    CounsellingSession,
    InterventionFlag,
    PartnerOrganisation,
    Referral,
)
from .tasks import complete_task, open_task


@transaction.atomic
def record_counselling_session(
    *,
    client: Any,
    by: Any,
    mode: str,
    summary: str,
    topics: str = "",
    needs_intervention: bool = False,
    intervention_reason: str = "",
    now: dt.datetime | None = None,
) -> CounsellingSession:
    """Record a support session (S16); `needs_intervention` flags the client and refers them to the
    local social-work station at once (S17)."""
    if mode not in CounsellingMode.values:
        raise ValidationError({"mode": f"Unknown mode {mode!r}."})
    if not summary.strip():
        raise ValidationError({"summary": "Summarise the session."})
    now = now or timezone.now()
    session = CounsellingSession.objects.create(
        client=client,
        region_id=client.region_id,
        counsellor=by,
        at=now,
        mode=mode,
        topics=topics.strip(),
        summary=summary.strip(),
        needs_intervention=needs_intervention,
    )
    if needs_intervention:
        flag_for_intervention(
            client=client, by=by, reason=intervention_reason or summary, session=session, now=now
        )
    return session


def local_social_work_station(region_code: str) -> PartnerOrganisation | None:
    """The active social-work station whose region is the closest ancestor of (or is) `region_code`."""
    from pingantong.regions.models import prefix_of

    stations = PartnerOrganisation.objects.filter(kind=PartnerKind.SOCIAL_WORK_STATION, active=True)
    best = None
    for station in stations:
        prefix = prefix_of(station.region_id)
        if region_code.startswith(prefix) and (best is None or len(prefix) > len(prefix_of(best.region_id))):
            best = station
    return best


@transaction.atomic
def flag_for_intervention(
    *,
    client: Any,
    by: Any,
    reason: str,
    session: CounsellingSession | None = None,
    now: dt.datetime | None = None,
) -> InterventionFlag:
    """S17: raise a warning on the platform and refer the client to the local social-work station
    (a referral task for the supervisor, due within a day). One active flag per client."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the client needs intervention."})
    now = now or timezone.now()
    existing = InterventionFlag.objects.filter(client=client, cleared_at__isnull=True).first()
    if existing is not None:
        return existing
    referral = refer_client(
        client=client,
        by=by,
        kind=ReferralKind.SOCIAL_WORK,
        partner=local_social_work_station(client.region_id),
        reason=reason,
        now=now,
        team="supervisor",
        due=now + dt.timedelta(days=1),
    )
    flag = InterventionFlag.objects.create(
        client=client,
        region_id=client.region_id,
        reason=reason.strip(),
        session=session,
        referral=referral,
        raised_at=now,
        raised_by=by,
    )
    transaction.on_commit(lambda: signals.intervention_flagged.send(sender=InterventionFlag, flag=flag))
    return flag


@transaction.atomic
def clear_intervention_flag(
    *, flag: InterventionFlag, by: Any, now: dt.datetime | None = None
) -> InterventionFlag:
    if flag.cleared_at is not None:
        raise ValidationError({"flag": "Already cleared."})
    flag.cleared_at = now or timezone.now()
    flag.cleared_by = by
    flag.save(update_fields=["cleared_at", "cleared_by"])
    return flag


@transaction.atomic
def refer_client(
    *,
    client: Any,
    by: Any,
    kind: str,
    reason: str,
    partner: PartnerOrganisation | None = None,
    service: str = "",
    now: dt.datetime | None = None,
    team: str = "agent",
    due: dt.datetime | None = None,
) -> Referral:
    """Refer a client (S17 social work, S20 partner organisation, S21 online medical service); a
    referral task follows it until its outcome is recorded."""
    if kind not in ReferralKind.values:
        raise ValidationError({"kind": f"Unknown referral kind {kind!r}."})
    if not reason.strip():
        raise ValidationError({"reason": "Say what the referral is for."})
    if kind == ReferralKind.PARTNER and partner is None:
        raise ValidationError({"partner": "Choose the partner organisation."})
    now = now or timezone.now()
    referral = Referral.objects.create(
        client=client,
        region_id=client.region_id,
        kind=kind,
        partner=partner,
        service=service.strip(),
        reason=reason.strip(),
        referred_at=now,
        referred_by=by,
    )
    target = partner.name if partner else (service or ReferralKind(kind).label)
    referral.task = open_task(
        kind=TaskKind.REFERRAL,
        client=client,
        due_at=due or now + dt.timedelta(days=3),
        reason=f"{ReferralKind(kind).label} → {target}: {reason.strip()}",
        source=TaskSource.COUNSELLING if kind == ReferralKind.SOCIAL_WORK else TaskSource.MANUAL,
        related=[referral],
        created_by=by,
        team=team,
        now=now,
    )
    referral.save(update_fields=["task"])
    return referral


@transaction.atomic
def record_referral_outcome(
    *, referral: Referral, by: Any, status: str, outcome: str, now: dt.datetime | None = None
) -> Referral:
    """What the partner did (S20): accepted (still running), completed or declined."""
    if status not in (ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED, ReferralStatus.DECLINED):
        raise ValidationError({"status": f"Not an outcome: {status!r}."})
    if not outcome.strip():
        raise ValidationError({"outcome": "Describe the outcome."})
    now = now or timezone.now()
    referral.status = status
    referral.outcome = outcome.strip()
    fields = ["status", "outcome"]
    if status != ReferralStatus.ACCEPTED:
        referral.closed_at = now
        fields.append("closed_at")
        if referral.task is not None and referral.task.is_active:
            complete_task(
                task=referral.task,
                outcome=TaskOutcome.REFERRED if status == ReferralStatus.COMPLETED else TaskOutcome.OTHER,
                notes={"referral_outcome": referral.outcome},
                by=by,
                now=now,
            )
    referral.save(update_fields=fields)
    return referral


@transaction.atomic
def sign_up_for_activity(
    *, activity: Activity, client: Any, by: Any, now: dt.datetime | None = None
) -> ActivitySignup:
    """Sign a client up (S18); refused when full or already signed up."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if ActivitySignup.objects.filter(activity=activity, client=client).exists():
        raise ValidationError({"client": "Already signed up."})
    if activity.signups.count() >= activity.capacity:
        raise ValidationError({"activity": "The activity is full."})
    return ActivitySignup.objects.create(
        activity=activity, client=client, signed_up_at=now or timezone.now(), signed_up_by=by
    )


def record_attendance(*, signup: ActivitySignup, attended: bool) -> ActivitySignup:
    signup.attended = attended
    signup.save(update_fields=["attended"])
    return signup
