from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "pingantong.inventory"
    label = "inventory"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Devices in the field")

    def ready(self) -> None:
        from pingantong.accounts.choices import Role
        from pingantong.core import navigation
        from pingantong.core.audit import audit_changes
        from pingantong.core.home import register_widget

        from . import receivers, tasks  # noqa: F401  (tasks registers the periodic jobs with Huey)
        from .models import Charge, DeviceCheck, Installation, InstallationItem, StockItem, TestCall
        from .views.widgets import inventory_home_widget

        receivers.connect()
        register_widget(inventory_home_widget, order=40)
        audit_changes(StockItem, mask_fields=["iccid", "sim_number"])
        audit_changes(Charge)
        audit_changes(Installation, mask_fields=["checkin_lat", "checkin_lon"])
        audit_changes(InstallationItem)
        audit_changes(DeviceCheck)
        audit_changes(TestCall)
        field = {Role.FIELD_WORKER, Role.SUPERVISOR, Role.AGENCY_ADMIN}
        navigation.register(_("Installations"), "inventory:install-list", field, order=40)
        navigation.register(_("Device health"), "inventory:health", field | {Role.AGENT}, order=41)
        navigation.register(_("Device stock"), "inventory:stock-list", field | {Role.SYSADMIN}, order=42)
