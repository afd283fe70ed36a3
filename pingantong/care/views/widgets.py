"""The care app's home-page widget: the user's open tasks and active intervention warnings."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from ..selectors.worklist import active_flags, worklist_counts


def care_home_widget(request: HttpRequest) -> dict | None:
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return None
    counts = worklist_counts(user, now=timezone.now())
    if counts is None:
        return None
    return {
        "title": _("Care work"),
        "template": "care/_home_widget.html",
        "context": {"counts": counts, "flags": active_flags(user)[:5]},
    }
