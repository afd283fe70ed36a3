from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "pingantong.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from pingantong.accounts.choices import Role

        from . import navigation

        navigation.register(_("Home"), "home", set(Role), order=0, icon="house")
        navigation.register(
            _("Audit log"), "audit-log", {Role.AUDITOR, Role.SYSADMIN, Role.DISTRICT}, order=900
        )
