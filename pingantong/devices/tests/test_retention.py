"""Telemetry retention: old rows go, recent ones stay, positions are kept at least 7 days (S09)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from pingantong.devices.actions import register_device
from pingantong.devices.models import PositionRecord, RawFrame
from pingantong.devices.retention import purge_telemetry

pytestmark = pytest.mark.django_db


def _position(device, age_days: float):
    at = timezone.now() - timedelta(days=age_days)
    return PositionRecord.objects.create(
        device=device, recorded_at=at, received_at=at, latitude=26.2, longitude=117.6, valid=True
    )


def test_purge_removes_only_rows_past_their_retention():
    device = register_device(protocol="watch", identity="1", device_type="watch")
    old, recent = _position(device, 200), _position(device, 10)
    RawFrame.objects.create(protocol="watch", received_at=timezone.now() - timedelta(days=400), data=b"x")
    deleted = purge_telemetry(batch=1)
    assert deleted["PositionRecord"] == 1 and deleted["RawFrame"] == 1
    assert list(PositionRecord.objects.values_list("pk", flat=True)) == [recent.pk]
    assert old.pk not in PositionRecord.objects.values_list("pk", flat=True)


@override_settings(PINGANTONG_TELEMETRY_RETENTION_DAYS={"PositionRecord": 1})
def test_positions_are_kept_at_least_seven_days_whatever_the_setting():
    device = register_device(protocol="watch", identity="2", device_type="watch")
    six_days = _position(device, 6)
    _position(device, 8)
    purge_telemetry()
    assert list(PositionRecord.objects.values_list("pk", flat=True)) == [six_days.pk]
