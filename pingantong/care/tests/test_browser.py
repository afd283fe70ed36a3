"""S12 in a real Chromium on a phone-sized screen: a field worker opens today's visits, checks in
with the phone's location (near the home), ticks the checklist, records the client's confirmation
and completes the visit; the task closes and the visit counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from pingantong.accounts.choices import Role
from pingantong.care.actions import open_task
from pingantong.care.choices import TaskKind
from pingantong.care.models import Task, Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
HOME = (26.2634, 117.6389)


def test_field_worker_completes_a_visit_with_check_in_on_a_phone(
    browser, live_server, user_factory, password
):
    from pingantong.clients.testing import make_client

    client = make_client(
        region="350404001001", name="林秀英", address="列东街道江滨路8号", home_lat=HOME[0], home_lon=HOME[1]
    )
    # Due later today in Shanghai: two hours from now, or just before midnight when that would
    # be tomorrow (the page lists today's and overdue visits; the test ran into tomorrow after 22:00).
    end_of_today = timezone.localtime().replace(hour=23, minute=59, second=0, microsecond=0)
    task = open_task(
        kind=TaskKind.VISIT,
        client=client,
        due_at=min(timezone.now() + dt.timedelta(hours=2), end_of_today),
        reason="monthly visit",
    )
    worker = user_factory(Role.FIELD_WORKER, "350404001000")

    context = browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": HOME[0] + 0.0004, "longitude": HOME[1], "accuracy": 10},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(f"{live_server.url}/login/?next=/care/visits/")
        page.fill("#id_username", worker.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/care/visits/")
        page.wait_for_selector("[data-testid=visit-map] .leaflet-marker-icon")  # the home on the map
        page.locator("[data-testid=visit-list] a", has_text="林秀英").click()
        page.wait_for_url(f"**/care/visits/{task.pk}/")
        page.click("[data-testid=checkin-button]")
        page.wait_for_selector("[data-testid=checked-in]")
        assert "m" in page.inner_text("[data-testid=checked-in]")
        page.check("#id_check_well")
        page.check("#id_check_device_ok")
        page.fill("#id_notes", "精神不错，药品充足")
        page.check("#id_client_confirmed")
        page.fill("#id_client_confirmation", "本人签字")
        page.click("[data-testid=complete-button]")
        page.wait_for_url("**/care/visits/")
        assert page.locator("[data-testid=visit-list] a", has_text="林秀英").count() == 0
    finally:
        context.close()

    visit = Visit.objects.get()
    assert visit.verified and 30 < visit.distance_m < 60 and visit.client_confirmed
    assert visit.checklist["well"] and visit.notes == "精神不错，药品充足"
    assert Task.objects.get(pk=task.pk).status == "done"
