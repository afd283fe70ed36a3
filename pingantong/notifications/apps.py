from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "pingantong.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from pingantong.accounts.choices import Role
        from pingantong.core import navigation
        from pingantong.core.audit import audit_changes

        from .models import Broadcast, RecipientPreference, Template

        # A Message is itself the record of a transmission (S01), with a timestamp per state; logging
        # each state change again in the audit log would double every write of a 10,000-SMS broadcast.
        audit_changes(RecipientPreference, mask_fields=["recipient"])
        audit_changes(Template)
        audit_changes(Broadcast)
        staff = {
            Role.AGENT,
            Role.SUPERVISOR,
            Role.AGENCY_ADMIN,
            Role.SYSADMIN,
            Role.DISTRICT,
            Role.TOWNSHIP,
            Role.AUDITOR,
        }
        navigation.register(_("Messages"), "notifications:message-list", staff, order=60)
        navigation.register(_("Broadcasts"), "notifications:broadcast-list", staff | {Role.VILLAGE}, order=61)
        navigation.register(
            _("Message templates"),
            "notifications:template-list",
            {Role.AGENCY_ADMIN, Role.SYSADMIN, Role.DISTRICT, Role.SUPERVISOR},
            order=62,
        )
        from pingantong.core.home import register_widget

        from .views.widgets import notifications_home_widget

        register_widget(notifications_home_widget, order=40)
        self._register_smpp_listener()

    def _register_smpp_listener(self) -> None:
        """Keep a receiver session open for delivery receipts when an SMPP gateway is configured."""
        import os

        if os.environ.get("PINGANTONG_SMS_PROVIDER") != "smpp" or not os.environ.get("PINGANTONG_SMPP_HOST"):
            return
        from pingantong.core import services

        async def listen(stop):
            from asgiref.sync import sync_to_async

            from .actions import apply_receipt
            from .providers.smpp import SmppSms

            def on_receipt(receipt):
                import asyncio

                asyncio.get_running_loop().create_task(
                    sync_to_async(apply_receipt)(receipt=receipt, provider="smpp")
                )

            adapter = SmppSms.from_env()
            adapter.on_receipt = on_receipt
            await adapter.listen(stop)

        services.register("smpp-receipts", listen, "SMPP delivery receipts")
