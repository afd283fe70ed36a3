from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GatewayConfig(AppConfig):
    name = "pingantong.gateway"
    label = "gateway"
    verbose_name = _("Device gateway")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from pingantong.accounts.choices import Role
        from pingantong.core import navigation, services
        from pingantong.gateway.listeners import start_gateway

        # Installers (field workers), agency and system administrators (pingantong.gateway.views).
        navigation.register(
            _("Device gateway"),
            "gateway:status",
            {Role.FIELD_WORKER, Role.AGENCY_ADMIN, Role.SYSADMIN},
            order=43,
        )
        services.register(
            "gateway", start_gateway, "device gateway: watch and JT/T 808 listeners, MQTT sensors, downlinks"
        )
