"""Retention with a controlled clock: 7 days of locations except around alarms (S09), raw frames a
year at least (I1), vitals kept while the client is served (S24), every purge logged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from pingantong.alarms.models import Alarm
from pingantong.clients.testing import VILLAGE, make_client
from pingantong.devices.actions import register_device
from pingantong.devices.models import PositionRecord, RawFrame, VitalsRecord
from pingantong.reports.models import RetentionRun
from pingantong.reports.retention import purge

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


def position(device, days_ago: float):
    when = NOW - dt.timedelta(days=days_ago)
    return PositionRecord.objects.create(
        device=device, recorded_at=when, received_at=when, latitude=26.26, longitude=117.63, valid=True
    )


@pytest.fixture
def watch(db):
    return register_device(protocol="watch", identity="8800000099", device_type="watch")


def test_locations_older_than_7_days_go_except_around_an_alarm(watch):
    fresh = position(watch, 6)
    old = position(watch, 8)
    kept_for_alarm = position(watch, 20)
    Alarm.objects.create(
        alarm_type="sos",
        device=watch,
        region_id=VILLAGE,
        raised_at=kept_for_alarm.recorded_at + dt.timedelta(minutes=5),
    )
    purge(now=NOW)
    remaining = set(PositionRecord.objects.values_list("pk", flat=True))
    assert remaining == {fresh.pk, kept_for_alarm.pk}
    assert old.pk not in remaining
    run = RetentionRun.objects.get(record_type="position")
    assert run.deleted == 1 and run.cutoff == NOW - dt.timedelta(days=7)


@override_settings(PINGANTONG_SERVICE_RETENTION_DAYS=30)
def test_service_records_are_kept_at_least_a_year_even_if_configured_less(watch):
    young = RawFrame.objects.create(protocol="watch", received_at=NOW - dt.timedelta(days=200), data=b"[x]")
    ancient = RawFrame.objects.create(protocol="watch", received_at=NOW - dt.timedelta(days=400), data=b"[y]")
    purge(now=NOW)
    assert set(RawFrame.objects.values_list("pk", flat=True)) == {young.pk}
    assert ancient.pk not in RawFrame.objects.values_list("pk", flat=True)


def test_vitals_are_kept_while_served_and_purged_a_year_after_service_ended(watch):
    served = make_client(name="在服务")
    ended = make_client(name="已终止", service_end_date=(NOW - dt.timedelta(days=500)).date())
    other = register_device(protocol="watch", identity="8800000098", device_type="watch")
    watch.client = served
    watch.save(update_fields=["client"])
    other.client = ended
    other.save(update_fields=["client"])
    long_ago = NOW - dt.timedelta(days=900)
    VitalsRecord.objects.create(device=watch, recorded_at=long_ago, received_at=long_ago, heart_rate_bpm=70)
    VitalsRecord.objects.create(device=other, recorded_at=long_ago, received_at=long_ago, heart_rate_bpm=72)
    purge(now=NOW)
    assert list(VitalsRecord.objects.values_list("device_id", flat=True)) == [watch.pk]
    assert timezone.is_aware(RetentionRun.objects.get(record_type="vitals").ran_at)
