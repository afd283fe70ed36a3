"""The application chain (P1): village files → township approves (enrolment) or returns with a reason
→ district records. Each step is timestamped, and the next role gets an in-app notice."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from pingantong.accounts.choices import Role
from pingantong.core.access import user_may

from ..choices import ApplicationAction, ApplicationStatus, ClientStatus, PayingScheme
from ..eligibility import check_eligibility
from ..models import Application, ApplicationStep, Client, Notice
from ..signals import client_changed, client_enrolled, send_on_commit
from .clients import register_client, update_client


def _township_code(region_code: str) -> str:
    return region_code[:9] + "000"


def _district_code(region_code: str) -> str:
    return region_code[:6] + "000000"


def _notify(*, role: str, region_code: str, message: str, application: Application) -> None:
    Notice.objects.create(
        role=role,
        region_code=region_code,
        message=message[:200],
        application=application,
        url=reverse("clients:application-detail", args=[application.pk]),
    )


def _close_notices(application: Application) -> None:
    Notice.objects.filter(application=application, done=False).update(done=True)


def _step(application: Application, action: str, by: Any, role: str, note: str = "") -> None:
    ApplicationStep.objects.create(
        application=application,
        action=action,
        actor=by if getattr(by, "pk", None) else None,
        role=role,
        at=timezone.now(),
        note=note,
    )


def _require(user: Any, action: str, application: Application) -> None:
    if not user_may(user, action, application):
        raise PermissionDenied(_("You may not do this for an application in this region."))


def _assess(application: Application) -> None:
    client = application.client
    result = check_eligibility(
        birth_date=client.birth_date,
        household_region_code=client.household_region_code,
        categories=client.categories,
    )
    application.eligible = result.eligible
    application.eligibility_notes = result.reasons


@transaction.atomic
def file_application(
    *,
    by: Any,
    id_number: str,
    statement: str = "",
    requested_scheme: str = PayingScheme.BASIC_PACKAGE,
    **client_fields: Any,
) -> Application:
    """A village/community user files an application for a resident of their village.

    The ID number is validated (60+, checksum, region, not already registered) and eligibility E1
    is assessed and explained; a resident not eligible for the basic package may apply self-paid."""
    region_code = client_fields.get("region_id") or ""
    probe = Application(client=Client(region_id=region_code))
    _require(by, "file", probe)
    client = register_client(id_number=id_number, by=by, status=ClientStatus.APPLYING, **client_fields)
    application = Application(
        client=client,
        statement=statement,
        requested_scheme=requested_scheme,
        filed_by=by,
        filed_at=timezone.now(),
    )
    _assess(application)
    if requested_scheme == PayingScheme.BASIC_PACKAGE and not application.eligible:
        raise ValidationError(
            {"requested_scheme": [_("Not eligible for the basic package:"), *application.eligibility_notes]},
            code="ineligible",
        )
    application.save()
    _step(application, ApplicationAction.FILE, by, Role.VILLAGE, statement)
    _notify(
        role=Role.TOWNSHIP,
        region_code=_township_code(client.region_id),
        application=application,
        message=_("New application to decide: %(name)s, %(village)s")
        % {"name": client.name, "village": client.region.display_name},
    )
    return application


@transaction.atomic
def refile_application(
    *, application: Application, by: Any, note: str = "", **client_fields: Any
) -> Application:
    """After a return, the village corrects the data and files again."""
    application = Application.objects.select_for_update().select_related("client").get(pk=application.pk)
    _require(by, "file", application)
    if application.status != ApplicationStatus.RETURNED:
        raise ValidationError({"status": _("Only a returned application can be filed again.")})
    if client_fields:
        update_client(client=application.client, by=by, **client_fields)
    _assess(application)
    if application.requested_scheme == PayingScheme.BASIC_PACKAGE and not application.eligible:
        raise ValidationError(
            {"requested_scheme": [_("Not eligible for the basic package:"), *application.eligibility_notes]}
        )
    application.status = ApplicationStatus.FILED
    application.filed_at = timezone.now()
    application.save()
    _close_notices(application)
    _step(application, ApplicationAction.FILE, by, Role.VILLAGE, note)
    _notify(
        role=Role.TOWNSHIP,
        region_code=_township_code(application.client.region_id),
        application=application,
        message=_("Application filed again: %(name)s") % {"name": application.client.name},
    )
    return application


@transaction.atomic
def return_application(*, application: Application, by: Any, reason: str) -> Application:
    """The township sends the application back to the village, saying why."""
    application = Application.objects.select_for_update().select_related("client").get(pk=application.pk)
    _require(by, "decide", application)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the application is returned.")})
    if application.status != ApplicationStatus.FILED:
        raise ValidationError({"status": _("Only a filed application can be returned.")})
    application.status = ApplicationStatus.RETURNED
    application.return_reason = reason.strip()
    application.decided_by, application.decided_at = by, timezone.now()
    application.save()
    _close_notices(application)
    _step(application, ApplicationAction.RETURN, by, Role.TOWNSHIP, reason)
    _notify(
        role=Role.VILLAGE,
        region_code=application.client.region_id,
        application=application,
        message=_("Application returned: %(name)s — %(reason)s")
        % {"name": application.client.name, "reason": reason.strip()},
    )
    return application


@transaction.atomic
def approve_application(*, application: Application, by: Any, note: str = "") -> Application:
    """The township approves: the client is enrolled (active), the district and the agency are told."""
    application = Application.objects.select_for_update().select_related("client").get(pk=application.pk)
    _require(by, "decide", application)
    if application.status != ApplicationStatus.FILED:
        raise ValidationError({"status": _("Only a filed application can be approved.")})
    now = timezone.now()
    application.status = ApplicationStatus.APPROVED
    application.decided_by, application.decided_at = by, now
    application.save()
    client = application.client
    client.status = ClientStatus.ACTIVE
    client.enrolled_at = now
    client.paying_scheme = application.requested_scheme
    client.save(update_fields=["status", "enrolled_at", "paying_scheme", "updated_at"])
    _close_notices(application)
    _step(application, ApplicationAction.APPROVE, by, Role.TOWNSHIP, note)
    district = _district_code(client.region_id)
    _notify(
        role=Role.DISTRICT,
        region_code=district,
        application=application,
        message=_("Approved application to record: %(name)s") % {"name": client.name},
    )
    _notify(
        role=Role.AGENCY_ADMIN,
        region_code=district,
        application=application,
        message=_("New client enrolled, agreement and installation due: %(name)s") % {"name": client.name},
    )
    send_on_commit(client_enrolled, Client, client=client, application=application)
    send_on_commit(client_changed, Client, client=client, fields=["status"])
    return application


@transaction.atomic
def record_application(*, application: Application, by: Any, note: str = "") -> Application:
    """The district bureau records (备案) an approved application."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    _require(by, "record", application)
    if application.status != ApplicationStatus.APPROVED:
        raise ValidationError({"status": _("Only an approved application can be recorded.")})
    application.status = ApplicationStatus.RECORDED
    application.recorded_by, application.recorded_at = by, timezone.now()
    application.save()
    Notice.objects.filter(application=application, role=Role.DISTRICT).update(done=True)
    _step(application, ApplicationAction.RECORD, by, Role.DISTRICT, note)
    return application
