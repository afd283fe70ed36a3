"""Access-test factories for the access matrix (pingantong.testing.access_matrix)."""

from __future__ import annotations

from datetime import timedelta


def make_alarm_in(region_code: str):
    from pingantong.alarms.actions import raise_alarm

    return raise_alarm(alarm_type="sos", region_code=region_code, device_ident=f"dev-{region_code}")


def make_step_in(region_code: str):
    return make_alarm_in(region_code).steps.first()


def make_signal_in(region_code: str):
    from pingantong.alarms.actions import record_signal

    return record_signal(
        signal_type="low_battery", device_ident=f"sig-{region_code}", region_code=region_code
    )


def make_settings_in(region_code: str):
    from pingantong.alarms.models import AlarmSettings
    from pingantong.clients.testing import make_client

    return AlarmSettings.objects.create(client=make_client(region_code))


def make_attempt_in(region_code: str):
    from django.utils import timezone

    from pingantong.alarms.actions import raise_alarm
    from pingantong.alarms.models import ContactAttempt
    from pingantong.clients.testing import make_client, make_contact

    client = make_client(region_code)
    alarm = raise_alarm(alarm_type="sos", client=client)
    return ContactAttempt.objects.create(
        alarm=alarm, contact=make_contact(client), order=1, ack_deadline=timezone.now() + timedelta(minutes=2)
    )


def make_centre_settings_in(region_code: str):
    from pingantong.alarms.models import AlarmCentreSettings

    return AlarmCentreSettings.objects.create(
        region_id=region_code, escalate_after_seconds=60, cascade_ack_seconds=120, join_window_seconds=900
    )


ACCESS_FACTORIES = {
    "alarms.Alarm": make_alarm_in,
    "alarms.AlarmStep": make_step_in,
    "alarms.Signal": make_signal_in,
    "alarms.AlarmSettings": make_settings_in,
    "alarms.ContactAttempt": make_attempt_in,
    "alarms.AlarmCentreSettings": make_centre_settings_in,
}
