"""Admin of the inventory app: restricted admins for records in regions, plain for the catalogue.
Stock state is read-only here: it moves only through the actions (history, charges)."""

from django.contrib import admin

from pingantong.core.admin import RestrictedModelAdmin

from .models import (
    Charge,
    DeviceCheck,
    DeviceModel,
    DeviceTypeProfile,
    Installation,
    InstallationItem,
    InstallationPhoto,
    StockEvent,
    StockItem,
    TestCall,
)


@admin.register(DeviceTypeProfile)
class DeviceTypeProfileAdmin(admin.ModelAdmin):
    list_display = ["device_type", "proves", "basic_terminal", "weekly_check", "device_silence_s", "offered"]


@admin.register(DeviceModel)
class DeviceModelAdmin(admin.ModelAdmin):
    list_display = ["vendor", "model", "device_type", "protocol", "price", "multi_function", "basic_terminal"]
    list_filter = ["device_type", "active"]


@admin.register(StockItem)
class StockItemAdmin(RestrictedModelAdmin):
    list_display = ["serial", "device_model", "state", "client", "region", "sim_real_name"]
    list_filter = ["state", "sim_real_name"]
    search_fields = ["serial", "imei", "iccid"]
    readonly_fields = ["state", "client", "region", "device", "replaced_by"]


@admin.register(StockEvent)
class StockEventAdmin(RestrictedModelAdmin):
    list_display = ["item", "action", "from_state", "to_state", "at", "by"]
    list_filter = ["action"]


@admin.register(Charge)
class ChargeAdmin(RestrictedModelAdmin):
    list_display = ["client", "kind", "price", "subsidy_amount", "client_amount", "created_at", "voided_at"]
    list_filter = ["kind"]


@admin.register(Installation)
class InstallationAdmin(RestrictedModelAdmin):
    list_display = ["client", "installer", "status", "started_at", "completed_at"]
    list_filter = ["status"]


@admin.register(InstallationItem)
class InstallationItemAdmin(RestrictedModelAdmin):
    list_display = ["installation", "item", "bound_at", "activated_at"]


@admin.register(InstallationPhoto)
class InstallationPhotoAdmin(RestrictedModelAdmin):
    list_display = ["installation", "uploaded_at"]


@admin.register(DeviceCheck)
class DeviceCheckAdmin(RestrictedModelAdmin):
    list_display = ["device", "week", "result", "last_press_at", "task"]
    list_filter = ["result", "week"]


@admin.register(TestCall)
class TestCallAdmin(RestrictedModelAdmin):
    list_display = ["device", "at", "by"]
