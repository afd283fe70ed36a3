"""Admin of the notifications app: templates and recipients' preferences are edited here too;
messages and broadcasts are read-only (they change only through actions)."""

from django.contrib import admin

from pingantong.core.admin import RestrictedModelAdmin

from .models import Broadcast, Message, RecipientPreference, Template, WeatherWarning


@admin.register(Template)
class TemplateAdmin(RestrictedModelAdmin):
    list_display = ["code", "name", "purpose", "aliyun_sms_code", "tencent_template_id", "active"]
    list_filter = ["purpose", "active"]
    search_fields = ["code", "name", "text"]


@admin.register(RecipientPreference)
class RecipientPreferenceAdmin(RestrictedModelAdmin):
    list_display = ["recipient", "cannot_read", "quiet_start", "quiet_end", "max_per_hour"]
    raw_id_fields = ["client"]


class ReadOnlyAdmin(RestrictedModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["queued_at", "channel", "provider", "status", "purpose", "recipient_name", "related"]
    list_filter = ["status", "channel", "purpose", "priority"]


@admin.register(Broadcast)
class BroadcastAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "status", "region", "total", "processed", "created_at"]
    list_filter = ["kind", "status", "source"]


@admin.register(WeatherWarning)
class WeatherWarningAdmin(ReadOnlyAdmin):
    list_display = ["identifier", "event", "severity", "onset", "area_desc"]
