"""Reactions to the clients app: devices follow a client who moves village; a client who leaves
gets a task to collect their devices; the installer's check-in records a missing home location."""

from __future__ import annotations

import datetime as dt

import pytest

from pingantong.accounts.choices import Role
from pingantong.care.models import Task
from pingantong.clients.testing import make_client
from pingantong.inventory import actions
from pingantong.testing.users import make_user

from .helpers import model, new_item

pytestmark = pytest.mark.django_db


def test_devices_follow_a_client_who_moves_to_another_village(django_capture_on_commit_callbacks):
    from pingantong.clients.actions import update_client
    from pingantong.regions.models import Region

    elder = make_client()
    item, _ = actions.assign_stock_item(item=new_item(model("watch")), client=elder)
    with django_capture_on_commit_callbacks(execute=True):
        update_client(client=elder, by=None, region_id=Region.objects.get(pk="350404002001").pk)
    item.refresh_from_db()
    assert item.region_id == "350404002001"


def test_a_client_who_leaves_gets_a_task_to_collect_the_devices(django_capture_on_commit_callbacks):
    from pingantong.clients.actions import terminate_client

    elder = make_client()
    item, _ = actions.assign_stock_item(item=new_item(model("watch")), client=elder)
    with django_capture_on_commit_callbacks(execute=True):
        terminate_client(
            client=elder,
            reason="moved_out",
            effective_date=dt.date(2026, 12, 1),
            by=make_user(Role.AGENCY_ADMIN),
        )
    task = Task.objects.get(kind="maintenance", client=elder)
    assert item.serial in task.reason and task.source_ref == f"collect:{elder.pk}"


def test_check_in_records_the_home_location_when_none_is_known():
    elder = make_client(home_lat=None, home_lon=None)
    installation = actions.start_installation(client=elder, installer=make_user(Role.FIELD_WORKER))
    actions.check_in_installation(installation=installation, latitude=26.26, longitude=117.63, accuracy_m=8)
    elder.refresh_from_db()
    assert (elder.home_lat, elder.home_lon, elder.home_location_source) == (
        26.26,
        117.63,
        "installer_checkin",
    )
    assert installation.distance_m == 0
