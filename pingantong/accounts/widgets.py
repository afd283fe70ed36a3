"""Home-page widget: who is on a seat right now (O1 24-hour cover)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from .models import Shift
from .selectors import on_duty_now


def on_duty_widget(request: HttpRequest) -> dict | None:
    user = request.user
    if not user.is_authenticated or not (
        user.is_superuser or user.roles & Shift.access_policy.roles_for("view")
    ):
        return None
    return {
        "title": _("On duty now"),
        "template": "accounts/widgets/on_duty.html",
        "context": {"shifts": list(on_duty_now(user)[:20])},
    }
