from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "pingantong.inventory"
    label = "inventory"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Devices in the field")
