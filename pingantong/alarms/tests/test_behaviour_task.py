"""S26–S28 from stored home-sensor history: the periodic scan raises one case per situation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from pingantong.alarms.models import Alarm
from pingantong.alarms.tasks import evaluate_behaviour_now

pytestmark = pytest.mark.django_db


def test_no_motion_for_a_day_raises_once(elder):
    from pingantong.devices.actions import bind_device, register_device
    from pingantong.devices.models import Device, SensorRecord

    pir = bind_device(
        device=register_device(protocol="mqtt", identity="0xpir", device_type="motion"), client=elder
    )
    now = timezone.now()
    Device.objects.filter(pk=pir.pk).update(created_at=now - timedelta(days=3))
    SensorRecord.objects.create(
        device=pir, recorded_at=now - timedelta(hours=20), received_at=now, state={"occupancy": True}
    )
    assert evaluate_behaviour_now(now) == 1
    alarm = Alarm.objects.get()
    assert alarm.alarm_type == "no_activity" and alarm.client == elder
    assert evaluate_behaviour_now(now + timedelta(minutes=10)) == 0
    assert Alarm.objects.get().occurrences == 1


def test_recent_motion_raises_nothing(elder):
    from pingantong.devices.actions import bind_device, register_device
    from pingantong.devices.models import SensorRecord

    pir = bind_device(
        device=register_device(protocol="mqtt", identity="0xpir2", device_type="motion"), client=elder
    )
    now = timezone.now()
    SensorRecord.objects.create(
        device=pir, recorded_at=now - timedelta(hours=1), received_at=now, state={"occupancy": True}
    )
    assert evaluate_behaviour_now(now) == 0
