from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    name = "pingantong.devices"
    label = "devices"
    verbose_name = _("Devices")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from pingantong.devices import actions, rules
        from pingantong.gateway import pipeline

        # The devices app keeps state and life signs; alarms and care register their own rules.
        pipeline.register_rule(rules.device_state_rule)
        pipeline.register_rule(rules.life_sign_rule)
        # One applier for both: they write the same state rows, once each (decision 0135).
        pipeline.register_applier(
            (pipeline.UpdateDeviceState, pipeline.RecordLifeSign), actions.apply_device_decisions, batch=True
        )

        # Registry changes (binding a device to a person, SIM numbers) and commands are audited (X2);
        # the telemetry tables are not: they are written thousands of times a second by the gateway.
        from pingantong.core.audit import audit_changes
        from pingantong.devices.models import Device, DownlinkCommand, WebhookVendor

        audit_changes(Device, mask_fields=["sim_number"])
        audit_changes(DownlinkCommand)
        audit_changes(WebhookVendor, mask_fields=["secret"])
