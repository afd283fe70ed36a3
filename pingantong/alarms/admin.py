"""Admin of the alarm centre: per-client rule settings (safe areas, vital limits) and a read view of
alarms and signals, all region-restricted."""

from __future__ import annotations

from django.contrib import admin

from pingantong.core.admin import RestrictedModelAdmin

from .models import Alarm, AlarmCentreSettings, AlarmSettings, Signal


@admin.register(AlarmSettings)
class AlarmSettingsAdmin(RestrictedModelAdmin):
    list_display = ("client", "geofence_dwell_seconds", "geofence_max_accuracy_m", "no_motion_hours")
    raw_id_fields = ("client",)
    search_fields = ("client__name",)


@admin.register(Alarm)
class AlarmAdmin(RestrictedModelAdmin):
    """Read-only: alarms change only through the actions (claim, steps, close), never by hand."""

    list_display = (
        "pk",
        "alarm_type",
        "priority",
        "status",
        "device_ident",
        "client",
        "raised_at",
        "outcome",
    )
    list_filter = ("status", "alarm_type", "outcome", "review_required")
    search_fields = ("device_ident", "client__name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Signal)
class SignalAdmin(RestrictedModelAdmin):
    list_display = ("signal_type", "device_ident", "client", "recorded_at")
    list_filter = ("signal_type",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AlarmCentreSettings)
class AlarmCentreSettingsAdmin(RestrictedModelAdmin):
    """The same settings as /alarms/settings/ (which supervisors use); kept for administrators."""

    list_display = (
        "region",
        "escalate_after_seconds",
        "cascade_ack_seconds",
        "join_window_seconds",
        "sms_supervisor_on_escalation",
        "updated_by",
        "updated_at",
    )
    raw_id_fields = ("region",)
    readonly_fields = ("updated_by", "updated_at")
