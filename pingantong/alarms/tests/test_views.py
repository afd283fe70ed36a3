"""The queue page, its polling rows, the alarm screen (with the audited read) and the KPI board."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from pingantong.alarms import actions
from pingantong.alarms.models import Alarm

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, agent):
    client.force_login(agent)
    return client


def test_queue_lists_active_alarms_priority_first_with_age_and_claim(web, elder):
    actions.raise_alarm(alarm_type="removed", client=elder, device_ident="111")
    sos = actions.raise_alarm(alarm_type="sos", device_ident="4700186508")
    html = web.get(reverse("alarms:queue")).content.decode()
    assert html.index(f'id="alarm-{sos.pk}"') < html.index("111")
    assert "data-age-since=" in html and 'hx-trigger="every 10s"' in html
    assert reverse("alarms:claim", args=[sos.pk]) in html


def test_rows_partial_is_the_polling_fallback(web, elder):
    alarm = actions.raise_alarm(alarm_type="sos", client=elder)
    html = web.get(reverse("alarms:rows")).content.decode()
    assert f'id="alarm-{alarm.pk}"' in html and "<html" not in html


def test_alarm_screen_shows_client_record_contacts_script_and_logs_the_read(
    web, agent, elder, contact_factory
):
    contact_factory(elder, name="王小明", phone="13700000001")
    alarm = actions.raise_alarm(alarm_type="sos", client=elder, latitude=26.26, longitude=117.63)
    html = web.get(reverse("alarms:detail", args=[alarm.pk])).content.decode()
    assert "王奶奶" in html and "高血压" in html and "钥匙在邻居家" in html and "王小明" in html
    assert 'href="tel:13700000001"' in html
    assert 'data-testid="step-called_client"' in html and 'id="map-data"' in html
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS, object_pk=str(elder.pk))
    assert entry.actor == agent and entry.additional_data["purpose"] == "alarm handling"
    assert "health" in entry.additional_data["fields"]


def test_smoke_script_puts_119_first(web, elder):
    alarm = actions.raise_alarm(alarm_type="smoke", client=elder)
    html = web.get(reverse("alarms:detail", args=[alarm.pk])).content.decode()
    assert html.index("step-called_119") < html.index("step-called_client")


def test_htmx_claim_redirects_to_alarm_screen_and_second_claim_conflicts(web, client, agent2, elder):
    alarm = actions.raise_alarm(alarm_type="sos", client=elder)
    response = web.post(reverse("alarms:claim", args=[alarm.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"] == reverse(
        "alarms:detail", args=[alarm.pk]
    )
    client.force_login(agent2)
    again = client.post(reverse("alarms:claim", args=[alarm.pk]), HTTP_HX_REQUEST="true")
    assert again.status_code == 409 and "坐席小李" in again.content.decode()


def test_one_click_step_and_close_from_the_screen(web, elder):
    alarm = actions.raise_alarm(alarm_type="sos", client=elder)
    web.post(reverse("alarms:step", args=[alarm.pk]), {"kind": "called_120"})
    response = web.post(
        reverse("alarms:close", args=[alarm.pk]), {"outcome": "ambulance", "note": "120 came"}
    )
    assert response.status_code == 302
    alarm.refresh_from_db()
    assert alarm.status == "closed" and alarm.review_required
    kinds = list(alarm.steps.values_list("kind", flat=True))
    assert "called_120" in kinds and kinds[-1] == "closed"


def test_close_without_outcome_changes_nothing(web, elder):
    alarm = actions.raise_alarm(alarm_type="sos", client=elder)
    web.post(reverse("alarms:close", args=[alarm.pk]), {"outcome": "", "note": ""})
    assert Alarm.objects.get(pk=alarm.pk).status == "open"


def test_other_town_cannot_open_the_alarm(client, user_factory, elder):
    alarm = actions.raise_alarm(alarm_type="sos", client=elder)
    client.force_login(user_factory("agent", "350404002000"))
    assert client.get(reverse("alarms:detail", args=[alarm.pk])).status_code == 404
    assert client.post(reverse("alarms:claim", args=[alarm.pk])).status_code == 404


def test_kpi_page_for_supervisor_only(client, supervisor, agent):
    client.force_login(supervisor)
    assert 'data-testid="kpis"' in client.get(reverse("alarms:kpis")).content.decode()
    client.force_login(agent)
    assert client.get(reverse("alarms:kpis")).status_code == 403


def test_acknowledged_cascade_ticks_contacted_family_in_the_script():
    from pingantong.alarms.scripts import script_for

    items = {i["kind"]: i for i in script_for("sos", ["raised", "notification_acknowledged"])}
    assert items["contacted_family"]["done"] and items["called_client"]["next"]


def test_home_widget_counts_waiting_alarms(web, elder):
    from datetime import timedelta

    from django.utils import timezone

    actions.raise_alarm(alarm_type="sos", client=elder, at=timezone.now() - timedelta(minutes=2))
    actions.raise_alarm(alarm_type="fall", device_ident="x")
    actions.escalate_unclaimed()
    html = web.get("/").content.decode()
    assert 'data-testid="alarms-widget"' in html and ">2<" in html.replace(" ", "").replace("\n", "")


def test_history_lists_reviews_pending_for_supervisor(client, supervisor, agent, elder):
    serious = actions.raise_alarm(alarm_type="fall", client=elder)
    actions.close_alarm(alarm_id=serious.pk, user=agent, outcome="hospital", note="送医")
    plain = actions.raise_alarm(alarm_type="sos", device_ident="9")
    actions.close_alarm(alarm_id=plain.pk, user=agent, outcome="false_alarm")
    client.force_login(supervisor)
    html = client.get(reverse("alarms:history") + "?review=pending").content.decode()
    assert f'href="/alarms/{serious.pk}/"' in html and f'href="/alarms/{plain.pk}/"' not in html
    everything = client.get(reverse("alarms:history") + "?q=9").content.decode()
    assert f'href="/alarms/{plain.pk}/"' in everything


def test_kpis_count_quality_audit_reviews_per_agent(supervisor, user_factory, agent, elder):
    from pingantong.alarms.selectors import kpis

    other_supervisor = user_factory("supervisor", "350404000000")
    for outcome, note in (("ambulance", "120"), ("false_alarm", "")):
        alarm = actions.raise_alarm(alarm_type="sos", client=elder)
        actions.claim_alarm(alarm_id=alarm.pk, user=agent)
        actions.close_alarm(alarm_id=alarm.pk, user=agent, outcome=outcome, note=note)
        actions.review_alarm(alarm_id=alarm.pk, user=other_supervisor)
    [row] = kpis(supervisor)["per_agent"]
    assert row["reviewed"] == 2 and row["reviewed_serious"] == 1 and row["audit_ok"]
