from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "pingantong.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from pingantong.core import home, navigation
        from pingantong.core.audit import audit_changes

        from .choices import AGENCY_ROLES, GOVERNMENT_ROLES, Role
        from .models import ROLE_MANAGERS, RoleAssignment, Shift, User
        from .widgets import on_duty_widget

        # Who may act where is itself audited: granting a role is a change of access to personal data.
        audit_changes(RoleAssignment)
        audit_changes(Shift)
        audit_changes(User, exclude_fields=["password", "last_login"], mask_fields=["phone"])
        navigation.register(
            _("Shifts"),
            "accounts:shift-list",
            AGENCY_ROLES | GOVERNMENT_ROLES | {Role.AUDITOR, Role.SYSADMIN},
            order=800,
        )
        navigation.register(
            _("Staff & roles"), "accounts:staff-roles", ROLE_MANAGERS | {Role.AUDITOR}, order=850
        )
        home.register_widget(on_duty_widget, order=50)
