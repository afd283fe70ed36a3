"""The inventory home widget: for field staff, open installations and devices needing attention in
their regions (counted in the database: silent per type, faulty stock)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import InstallationStatus, StockState
from ..models import Installation, StockItem
from ..models.policies import FIELD
from ..selectors import maintenance_candidates


def inventory_home_widget(request: HttpRequest) -> dict | None:
    user = request.user
    if not getattr(user, "is_authenticated", False) or not (
        user.is_superuser or set(user.roles) & set(FIELD)  # type: ignore[union-attr]
    ):
        return None
    return {
        "title": _("Devices in the field"),
        "template": "inventory/_home_widget.html",
        "context": {
            "open_installations": Installation.objects.restrict(user, "view")
            .filter(status=InstallationStatus.OPEN)
            .count(),
            "needing_attention": maintenance_candidates(timezone.now()).restrict(user, "view").count(),
            "faulty": StockItem.objects.restrict(user, "view").filter(state=StockState.FAULTY).count(),
        },
    }
