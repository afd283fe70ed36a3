from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "pingantong.reports"
    label = "reports"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Reports and settlement")

    def ready(self) -> None:
        from pingantong.core import navigation

        from . import tasks  # noqa: F401 - registers the periodic tasks
        from .models import READERS

        navigation.register(_("Reports"), "reports:index", READERS, order=700)
        navigation.register(_("Dashboard"), "reports:dashboard", READERS, order=690)
