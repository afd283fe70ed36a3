"""`/alarms/settings/`: the agency supervisor's and administrator's page for the alarm centre's
settings of their regions (escalation time, acknowledgement wait, join window, escalation SMS).

Region-scoped like every page: only regions where the user holds an editing role (and the towns
below them) are listed and accepted; every change goes through `centre.update_centre_settings`
(one transaction, audit-logged) and the page shows the recent changes from the audit log.
"""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingantong.core.views import require_role

from . import centre
from .models import CENTRE_SETTINGS_EDITORS, AlarmCentreSettings


class CentreSettingsForm(forms.Form):
    escalate_after_seconds = forms.IntegerField(
        label=gettext_lazy("Escalate an unclaimed alarm to the supervisor after (seconds)"),
        min_value=10,
        max_value=3600,
    )
    cascade_ack_seconds = forms.IntegerField(
        label=gettext_lazy("Wait for a contact's acknowledgement before the next one (seconds)"),
        min_value=30,
        max_value=3600,
    )
    join_window_seconds = forms.IntegerField(
        label=gettext_lazy("Repeated alarms of one client join the open alarm within (seconds)"),
        min_value=60,
        max_value=86400,
    )
    sms_supervisor_on_escalation = forms.BooleanField(
        label=gettext_lazy("Send an SMS to the supervisors on shift when an alarm escalates"),
        required=False,
    )


HIDDEN_CHANGES = frozenset({"id", "region", "updated_at", "updated_by"})


def _recent_changes(regions: dict[str, Any]) -> list[dict[str, Any]]:
    """The audit log's entries for these regions' settings (deleted rows included: found by their
    repr), each with its region's name and the changed values under their labels."""
    content_type = ContentType.objects.get_for_model(AlarmCentreSettings)
    by_repr = {str(AlarmCentreSettings(region_id=code)): region for code, region in regions.items()}
    entries = (
        LogEntry.objects.filter(content_type=content_type, object_repr__in=list(by_repr))
        .select_related("actor")
        .order_by("-timestamp")[:20]
    )
    labels = {f.name: str(f.verbose_name) for f in AlarmCentreSettings._meta.concrete_fields}
    return [
        {
            "entry": entry,
            "region": by_repr[entry.object_repr],
            "changes": [
                (labels.get(name, name), old, new)
                for name, (old, new) in entry.changes_dict.items()
                if name not in HIDDEN_CHANGES
            ],
        }
        for entry in entries
    ]


@login_required
def centre_settings(request: HttpRequest) -> HttpResponse:
    """List the settings in force per region the user edits; edit one region's."""
    require_role(request, *CENTRE_SETTINGS_EDITORS)
    regions = centre.editable_regions(request.user)
    if not regions:
        raise PermissionDenied
    by_code = {r.code: r for r in regions}
    selected = by_code.get(request.GET.get("region") or request.POST.get("region") or "", regions[0])
    own = {
        row.region_id: row
        for row in AlarmCentreSettings.objects.restrict(request.user, "view").filter(region_id__in=by_code)
    }
    in_force = centre.settings_for(selected.code)
    if request.method == "POST":
        if request.POST.get("reset"):
            centre.reset_centre_settings(user=request.user, region_code=selected.code)
            messages.success(
                request,
                _("The settings of %(region)s now follow the region above.") % {"region": selected.name},
            )
            return redirect(f"{reverse('alarms:settings')}?region={selected.code}")
        form = CentreSettingsForm(request.POST)
        if form.is_valid():
            try:
                centre.update_centre_settings(
                    user=request.user, region_code=selected.code, **form.cleaned_data
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request, _("Alarm centre settings of %(region)s saved.") % {"region": selected.name}
                )
                return redirect(f"{reverse('alarms:settings')}?region={selected.code}")
    else:
        form = CentreSettingsForm(
            initial={
                "escalate_after_seconds": in_force.escalate_after_seconds,
                "cascade_ack_seconds": in_force.cascade_ack_seconds,
                "join_window_seconds": in_force.join_window_seconds,
                "sms_supervisor_on_escalation": in_force.sms_supervisor_on_escalation,
            }
        )
    table: list[dict[str, Any]] = [
        {"region": region, "values": centre.settings_for(region.code), "own": region.code in own}
        for region in regions
    ]
    return render(
        request,
        "alarms/settings.html",
        {
            "form": form,
            "selected": selected,
            "in_force": in_force,
            "own_row": own.get(selected.code),
            "source_name": by_code[in_force.source_region].name
            if in_force.source_region in by_code
            else in_force.source_region,
            "table": table,
            "changes": _recent_changes(by_code),
        },
    )
