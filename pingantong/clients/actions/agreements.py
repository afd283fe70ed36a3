"""Service agreements (P2) and termination (P4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pingantong.core.access import user_may

from ..catalogue import BASIC_MONTHLY_SUBSIDY
from ..choices import AgreementStatus, ClientStatus, ItemKind, PayingScheme, TerminationReason
from ..idnumber import today_local
from ..models import Agreement, Client, ServiceItem, Termination
from ..signals import client_changed, client_terminated, send_on_commit

RIGHTS_AND_DUTIES = (
    "甲方（服务对象及其家属）有权了解服务内容、收费标准和个人信息的使用情况，有权随时撤回对位置信息、健康数据等的授权，"
    "有权要求调整电话关怀和上门探访的频次；应如实提供个人及紧急联系人信息，妥善使用和保管终端设备，信息变化时及时告知乙方。\n"
    "乙方（运营机构）应按本协议提供服务项目，24小时响应紧急呼叫，依法保护甲方个人信息，未经授权不查询、不共享位置及健康信息；"
    "应对服务过程做好记录，接受民政部门的监督和服务评价。"
)
RISK_SHARING = (
    "终端设备和通信网络存在无信号、断电、故障等客观限制，乙方在已按协议和操作规程及时处置的情况下，不承担因上述限制导致的损失；"
    "因乙方未按规程处置造成损失的，由乙方依法承担相应责任。因甲方故意或过失损坏终端设备的，由甲方承担维修或更换费用。"
)
DISPUTE_RESOLUTION = (
    "双方因本协议发生争议的，应协商解决；协商不成的，可提请所在乡镇（街道）或三元区民政局调解；"
    "调解不成的，任何一方可向服务所在地人民法院提起诉讼。"
)


def _require(user: Any, action: str, obj: Any) -> None:
    if not user_may(user, action, obj):
        raise PermissionDenied(_("You may not do this for a client in this region."))


@transaction.atomic
def draft_agreement(
    *, client: Client, by: Any, extended_codes: Iterable[str] = (), starts_on: dt.date | None = None
) -> Agreement:
    """An agreement with every basic item and the chosen extended items, fees computed from prices."""
    agreement = Agreement(
        client=client,
        starts_on=starts_on or today_local(),
        rights_and_duties=RIGHTS_AND_DUTIES,
        risk_sharing=RISK_SHARING,
        dispute_resolution=DISPUTE_RESOLUTION,
        agency_signatory=by if getattr(by, "pk", None) else None,
    )
    _require(by, "add", agreement)
    if client.status == ClientStatus.TERMINATED:
        raise ValidationError({"client": _("The client's service has ended.")})
    codes = set(extended_codes)
    extended = list(ServiceItem.objects.filter(code__in=codes, kind=ItemKind.EXTENDED, active=True))
    unknown = codes - {item.code for item in extended}
    if unknown:
        raise ValidationError(
            {"items": _("Not extended items: %(codes)s") % {"codes": ", ".join(sorted(unknown))}}
        )
    basic = list(ServiceItem.objects.filter(kind=ItemKind.BASIC, active=True))
    extended_fee = sum((item.monthly_price for item in extended), Decimal("0"))
    if client.paying_scheme == PayingScheme.BASIC_PACKAGE:
        agreement.basic_monthly_fee = Decimal(BASIC_MONTHLY_SUBSIDY)
    else:  # self-paid: the client pays the agreed market price for the basic items too
        agreement.basic_monthly_fee = client.monthly_price or Decimal("0")
    agreement.extended_monthly_fee = extended_fee
    agreement.save()
    agreement.items.set([*basic, *extended])
    return agreement


@transaction.atomic
def sign_agreement(
    *,
    agreement: Agreement,
    by: Any,
    signed_by: str,
    signer_relation: str = "本人",
    signed_on: dt.date | None = None,
) -> Agreement:
    """Record the signature; an earlier signed agreement of the client ends the day before."""
    _require(by, "change", agreement)
    if agreement.status != AgreementStatus.DRAFT:
        raise ValidationError({"status": _("Only a draft can be signed.")})
    if not signed_by.strip():
        raise ValidationError({"signed_by": _("Enter the name of the person who signed.")})
    day = signed_on or today_local()
    for previous in Agreement.objects.filter(client=agreement.client, status=AgreementStatus.SIGNED):
        previous.status = AgreementStatus.ENDED
        previous.ends_on = max(previous.starts_on, agreement.starts_on - dt.timedelta(days=1))
        previous.save(update_fields=["status", "ends_on"])
    agreement.status = AgreementStatus.SIGNED
    agreement.signed_by, agreement.signer_relation, agreement.signed_on = (
        signed_by.strip(),
        signer_relation,
        day,
    )
    agreement.save(update_fields=["status", "signed_by", "signer_relation", "signed_on"])
    return agreement


@transaction.atomic
def terminate_client(
    *, client: Client, reason: str, effective_date: dt.date, by: Any, details: str = ""
) -> Termination:
    """End the service (P4) from `effective_date`: no billing or tasks from that day, records kept.

    The client becomes `terminated` at once when the date has come, else on that day
    (`apply_due_terminations`); `client_terminated` is sent after commit either way so that care,
    billing and the provincial sync stop from the given date."""
    client = Client.objects.select_for_update().get(pk=client.pk)
    if not user_may(by, "terminate", client):
        raise PermissionDenied(_("You may not end the service of a client in this region."))
    if reason not in TerminationReason.values:
        raise ValidationError({"reason": _("Choose a reason.")})
    if reason == TerminationReason.OTHER and not details.strip():
        raise ValidationError({"details": _("Describe the reason.")})
    if Termination.objects.filter(client=client).exists():
        raise ValidationError({"client": _("This client's service has already been ended.")})
    termination = Termination.objects.create(
        client=client,
        reason=reason,
        effective_date=effective_date,
        details=details.strip(),
        recorded_by=by if getattr(by, "pk", None) else None,
    )
    client.service_end_date = effective_date
    fields = ["service_end_date", "updated_at"]
    if effective_date <= today_local():
        client.status = ClientStatus.TERMINATED
        fields.append("status")
    client.save(update_fields=fields)
    for agreement in Agreement.objects.filter(client=client, status=AgreementStatus.SIGNED):
        agreement.ends_on = effective_date
        agreement.status = AgreementStatus.ENDED
        agreement.save(update_fields=["ends_on", "status"])
    send_on_commit(client_terminated, Client, client=client, termination=termination)
    send_on_commit(client_changed, Client, client=client, fields=["status", "service_end_date"])
    return termination


@transaction.atomic
def apply_due_terminations(*, today: dt.date | None = None) -> int:
    """Mark clients terminated whose termination date has come (run daily)."""
    day = today or today_local()
    due = Client.objects.filter(service_end_date__lte=day, termination__isnull=False).exclude(
        status=ClientStatus.TERMINATED
    )
    return due.update(status=ClientStatus.TERMINATED)
