from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    name = "pingantong.demo"
    label = "demo"
    verbose_name = _("Demonstration district")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from pingantong.core import services
        from pingantong.demo.living import run_demo_fleet

        services.register(
            "demo-fleet",
            run_demo_fleet,
            "living demo: simulated terminals of the demo district (only with PINGANTONG_DEMO on)",
        )
