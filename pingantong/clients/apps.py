from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "pingantong.clients"
    label = "clients"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Clients")

    def ready(self) -> None:
        from pingantong.accounts.choices import ALL_ROLES, Role
        from pingantong.core import navigation
        from pingantong.core.audit import audit_changes
        from pingantong.core.home import register_widget

        from . import models

        navigation.register(_("Clients"), "clients:list", ALL_ROLES, order=20)
        navigation.register(
            _("Applications"),
            "clients:applications",
            {Role.VILLAGE, Role.TOWNSHIP, Role.DISTRICT, Role.AGENCY_ADMIN, Role.SUPERVISOR},
            order=25,
        )
        audit_changes(
            models.Client, mask_fields=["id_number_encrypted", "id_number_hmac", "phone", "phone2", "address"]
        )
        audit_changes(models.Contact, mask_fields=["phone", "phone2", "wechat_id"])
        audit_changes(models.Consent)
        audit_changes(models.FrequencyChangeRequest)
        audit_changes(models.Application)
        audit_changes(models.Agreement)
        audit_changes(models.Termination)
        register_widget(_notice_widget, order=30)


def _notice_widget(request):
    """Home widget: the applications waiting for this user's role (P1 "notifies the next role")."""
    from .views.applications import notices_for

    notices = list(notices_for(request.user)[:10])
    if not notices:
        return None
    from django.template.loader import render_to_string

    context = {"notices": notices, "title": _("Applications for you")}
    return {
        "title": context["title"],
        "template": "clients/_notice_widget.html",
        "context": context,
        "html": render_to_string("clients/_notice_widget.html", context, request=request),
    }
