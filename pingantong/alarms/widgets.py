"""The home page's alarm widget: how many alarms wait for an agent right now."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils.translation import gettext as _

from pingantong.accounts.choices import Role

from .choices import ACTIVE_STATUSES, AlarmStatus
from .models import Alarm

WIDGET_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.DISTRICT)


def open_alarms_widget(request: HttpRequest) -> dict | None:
    user = request.user
    if not getattr(user, "is_authenticated", False) or not user.has_role(*WIDGET_ROLES):  # type: ignore[union-attr]
        return None
    counts = (
        Alarm.objects.restrict(user, "view")
        .filter(status__in=ACTIVE_STATUSES)
        .aggregate(
            active=Count("pk"),
            unclaimed=Count("pk", filter=Q(status=AlarmStatus.OPEN)),
            escalated=Count("pk", filter=Q(status=AlarmStatus.OPEN, escalated_at__isnull=False)),
        )
    )
    return {"title": _("Open alarms"), "template": "alarms/widgets/open.html", "context": counts}
