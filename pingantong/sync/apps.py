from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "pingantong.sync"
    label = "sync"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Provincial sync")

    def ready(self) -> None:
        from pingantong.core import navigation

        from . import outbox, tasks  # noqa: F401 - registers the periodic tasks
        from .models import SYNC_VIEW

        outbox.connect()
        navigation.register(_("Provincial sync"), "sync:index", SYNC_VIEW, order=750)
