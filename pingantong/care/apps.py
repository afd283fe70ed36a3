from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "pingantong.care"
    label = "care"
    verbose_name = _("Care work")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from pingantong.accounts.choices import Role
        from pingantong.core import navigation
        from pingantong.core.audit import audit_changes
        from pingantong.core.home import register_widget

        from . import receivers
        from .models import CareCall, Task, Visit
        from .views.widgets import care_home_widget

        receivers.connect()
        audit_changes(Task)
        audit_changes(CareCall, mask_fields=["concerns", "notes"])
        audit_changes(Visit, mask_fields=["checkin_lat", "checkin_lon"])
        work = {Role.AGENT, Role.FIELD_WORKER, Role.SUPERVISOR, Role.AGENCY_ADMIN}
        oversight = {
            Role.SUPERVISOR,
            Role.AGENCY_ADMIN,
            Role.VILLAGE,
            Role.TOWNSHIP,
            Role.DISTRICT,
            Role.AUDITOR,
        }
        navigation.register(_("My tasks"), "care:worklist", work, order=30)
        navigation.register(_("Today's visits"), "care:visits-today", {Role.FIELD_WORKER}, order=31)
        navigation.register(_("Daily confirmation"), "care:coverage", oversight | {Role.AGENT}, order=32)
        navigation.register(_("Support & referrals"), "care:support", work | oversight, order=33)
        register_widget(care_home_widget, order=30)
