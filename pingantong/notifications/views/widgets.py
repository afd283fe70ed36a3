"""Home-page widget: what needs a person's eye in notifications (last 24 h, the user's regions)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import BroadcastStatus, MessageStatus, Priority
from ..models import Broadcast, Message


def notifications_home_widget(request: HttpRequest) -> dict | None:
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return None
    since = timezone.now() - timedelta(hours=24)
    messages = Message.objects.restrict(user, "view").filter(queued_at__gte=since)
    counts = messages.aggregate(
        failed=Count("id", filter=Q(status=MessageStatus.FAILED)),
        emergency_unanswered=Count(
            "id",
            filter=Q(priority=Priority.EMERGENCY, require_ack=True, acknowledged_at__isnull=True)
            & ~Q(status__in=[MessageStatus.FAILED, MessageStatus.SUPPRESSED]),
        ),
        total=Count("id"),
    )
    drafts = Broadcast.objects.restrict(user, "view").filter(status=BroadcastStatus.DRAFT).count()
    if not (counts["total"] or drafts):
        return None
    return {
        "title": _("Notifications"),
        "template": "notifications/_home_widget.html",
        "context": {"counts": counts, "drafts": drafts},
    }
