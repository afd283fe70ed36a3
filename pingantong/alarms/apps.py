from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlarmsConfig(AppConfig):
    name = "pingantong.alarms"
    label = "alarms"
    verbose_name = _("Alarm centre")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from pingantong.accounts.choices import Role
        from pingantong.core import navigation, services
        from pingantong.core.audit import audit_changes

        from . import engine, live, tasks  # noqa: F401 - tasks registers the periodic jobs
        from .models import Alarm, AlarmCentreSettings, AlarmSettings

        engine.register()
        services.register("alarm-relay", live.relay, "carries alarm changes from the worker to consoles")
        navigation.register(
            _("Alarm queue"),
            "alarms:queue",
            {Role.AGENT, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.DISTRICT},
            order=10,
        )
        navigation.register(
            _("Alarm KPIs"),
            "alarms:kpis",
            {Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.DISTRICT, Role.AUDITOR},
            order=11,
        )
        navigation.register(
            _("Alarm centre settings"),
            "alarms:settings",
            {Role.SUPERVISOR, Role.AGENCY_ADMIN},
            order=12,
        )
        from pingantong.core.home import register_widget

        from .widgets import open_alarms_widget

        register_widget(open_alarms_widget, order=5)
        audit_changes(Alarm)
        audit_changes(AlarmSettings)
        audit_changes(AlarmCentreSettings)
