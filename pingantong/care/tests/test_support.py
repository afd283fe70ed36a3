"""Psychological support and referrals (S16–S21), and the daily coverage report (Q1)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from pingantong.care.actions import (
    record_counselling_session,
    record_referral_outcome,
    refer_client,
    run_daily_confirmation,
    sign_up_for_activity,
)
from pingantong.care.actions.calls import record_automated_call_result
from pingantong.care.actions.lifesigns import record_life_sign
from pingantong.care.models import Activity, InterventionFlag, PartnerOrganisation, Referral, Task

pytestmark = pytest.mark.django_db


def test_intervention_flag_refers_to_the_nearest_social_work_station_and_warns(
    client_factory, user_factory, now, client
):
    c = client_factory(region="350404001001")
    PartnerOrganisation.objects.create(
        name="三元区社工总站", kind="social_work_station", region_id="350404000000"
    )
    town_station = PartnerOrganisation.objects.create(
        name="列东街道社工站", kind="social_work_station", region_id="350404001000"
    )
    agent = user_factory("agent", "350404001000")
    session = record_counselling_session(
        client=c,
        by=agent,
        mode="phone",
        summary="Lonely since wife died",
        needs_intervention=True,
        intervention_reason="Talks of giving up",
        now=now,
    )
    flag = InterventionFlag.objects.get()
    assert flag.session == session and flag.referral.partner == town_station
    task = flag.referral.task
    assert (task.kind, task.team, task.due_at) == ("referral", "supervisor", now + dt.timedelta(days=1))
    client.force_login(agent)
    assert 'data-testid="intervention-flags"' in client.get(reverse("care:support")).content.decode()
    assert c.name in client.get(reverse("home")).content.decode()


def test_partner_referral_outcome_closes_its_task(client_factory, user_factory, now):
    c = client_factory()
    partner = PartnerOrganisation.objects.create(
        name="康乐养老院", kind="care_home", region_id="350404000000"
    )
    agent = user_factory("agent", "350404001000")
    with pytest.raises(ValidationError):
        refer_client(client=c, by=agent, kind="partner", reason="respite care")  # no partner named
    referral = refer_client(
        client=c, by=agent, kind="partner", partner=partner, reason="respite care", now=now
    )
    record_referral_outcome(referral=referral, by=agent, status="completed", outcome="Stayed two weeks")
    referral.refresh_from_db()
    assert referral.closed_at is not None and referral.task.status == "done"


def test_online_medical_service_is_a_referral(client_factory, user_factory, api_client):
    c = client_factory()
    api_client.force_authenticate(user_factory("agent", "350404001000"))
    response = api_client.post(
        reverse("care-referral-list"),
        {
            "client": c.pk,
            "kind": "medical_online",
            "service": "三明市第一医院 online registration",
            "reason": "knee pain",
        },
        format="json",
    )
    assert response.status_code == 201
    assert Referral.objects.get().kind == "medical_online"


def test_activity_sign_up_respects_capacity_and_duplicates(client_factory, user_factory, now):
    activity = Activity.objects.create(
        title="健康讲座",
        kind="health_talk",
        region_id="350404001000",
        starts_at=now + dt.timedelta(days=2),
        location="社区活动室",
        capacity=1,
    )
    a, b = client_factory(), client_factory()
    agent = user_factory("agent", "350404001000")
    sign_up_for_activity(activity=activity, client=a, by=agent)
    with pytest.raises(ValidationError):
        sign_up_for_activity(activity=activity, client=a, by=agent)
    with pytest.raises(ValidationError):
        sign_up_for_activity(activity=activity, client=b, by=agent)


def test_coverage_counts_life_signs_and_confirmations_per_town(client_factory, user_factory, api_client, now):
    alive = client_factory(region="350404001001", categories=["living_alone"])
    silent = client_factory(region="350404001001", categories=["living_alone"])
    client_factory(region="350404002001", categories=["empty_nest"])
    record_life_sign(client=alive, at=now - dt.timedelta(hours=3), source="visit")
    run_daily_confirmation(now=now)
    task = Task.objects.get(client=silent)
    record_automated_call_result(task=task, answer="1", now=now + dt.timedelta(minutes=5))
    api_client.force_authenticate(user_factory("district", "350404000000"))
    body = api_client.get(reverse("care-coverage-list"), {"day": "2026-03-10"}).json()
    assert body["total"]["due"] == 3 and body["total"]["confirmed"] == 2 and body["total"]["open_tasks"] == 1
    towns = {row["region"]: row for row in body["results"]}
    assert towns["350404001000"]["rate"] == 100.0 and towns["350404002000"]["rate"] == 0.0
    api_client.force_authenticate(user_factory("township", "350404002000"))
    body = api_client.get(reverse("care-coverage-list"), {"day": "2026-03-10"}).json()
    assert body["total"]["due"] == 1  # a township sees only its own clients


def test_the_days_confirmation_tasks_are_read_by_key_not_by_scanning_every_task(
    client_factory, user_factory, now
):
    """The coverage page counts one day's confirmation tasks among a year's (~10 million at
    100,000 clients): only that day's, and on SQLite through the key's index, not a scan."""
    from django.db import connection

    from pingantong.care.selectors.coverage import day_confirmation_tasks

    silent = client_factory(region="350404001001", categories=["living_alone"])
    for days in (-1, 0, 1):  # three days' sweeps, each day's task closed before the next sweep
        run_daily_confirmation(now=now + dt.timedelta(days=days))
        Task.objects.filter(client=silent).update(status="cancelled")
    assert Task.objects.filter(client=silent, kind="confirmation").count() == 3
    district = user_factory("district", "350404000000")
    tasks = day_confirmation_tasks(district, day=now.date(), region_prefix="350404")
    assert list(tasks.values_list("dedupe_key", flat=True)) == [f"confirmation:{now.date()}:{silent.pk}"]
    if connection.vendor == "sqlite":
        sql, params = tasks.values_list("region_id", "status", "outcome").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
        assert "dedupe_key>? AND dedupe_key<?" in plan, plan
        assert "SCAN care_task" not in plan and "TEMP B-TREE" not in plan, plan


def test_client_support_page_records_a_session_with_intervention_and_a_referral(
    client_factory, user_factory, client
):
    c = client_factory()
    PartnerOrganisation.objects.create(
        name="列东街道社工站", kind="social_work_station", region_id="350404001000"
    )
    client.force_login(user_factory("agent", "350404001000"))
    url = reverse("care:client-support", args=[c.pk])
    assert client.get(url).status_code == 200
    client.post(
        url,
        {
            "form": "counselling",
            "mode": "phone",
            "summary": "情绪低落",
            "needs_intervention": "on",
            "intervention_reason": "多次提到轻生",
        },
    )
    assert InterventionFlag.objects.get(client=c).referral.partner.name == "列东街道社工站"
    client.post(url, {"form": "referral", "kind": "medical_online", "service": "线上问诊", "reason": "咳嗽"})
    assert Referral.objects.filter(client=c).count() == 2
    client.post(url, {"form": "referral", "kind": "partner", "reason": "x"})  # no partner: refused
    assert Referral.objects.filter(client=c).count() == 2


def test_activity_sign_up_from_the_client_page_and_attendance(client_factory, user_factory, client, now):
    from django.utils import timezone

    c = client_factory()
    activity = Activity.objects.create(
        title="健康讲座",
        kind="health_talk",
        region_id="350404001000",
        starts_at=timezone.now() + dt.timedelta(days=2),
        location="社区活动室",
    )
    client.force_login(user_factory("agent", "350404001000"))
    client.post(reverse("care:client-support", args=[c.pk]), {"form": "activity", "activity": activity.pk})
    signup = activity.signups.get()
    assert signup.client == c and signup.attended is None
    client.post(reverse("care:activity", args=[activity.pk]), {"attended": [str(signup.pk)]})
    signup.refresh_from_db()
    assert signup.attended is True


def test_activity_page_shows_only_the_sign_ups_of_clients_in_the_users_region(
    client_factory, user_factory, client
):
    from django.utils import timezone

    from pingantong.care.models import ActivitySignup
    from pingantong.testing.regions import TOWN_A, TOWN_B, village_of

    activity = Activity.objects.create(
        title="重阳节活动",
        kind="social",
        region_id=TOWN_A,
        starts_at=timezone.now() + dt.timedelta(days=3),
        location="区老年活动中心",
    )
    own = client_factory(region=village_of(TOWN_A), name="本街道老人")
    other = client_factory(region=village_of(TOWN_B), name="邻街道老人")
    own_signup = ActivitySignup.objects.create(activity=activity, client=own, signed_up_at=timezone.now())
    other_signup = ActivitySignup.objects.create(activity=activity, client=other, signed_up_at=timezone.now())

    client.force_login(user_factory("agent", TOWN_A))
    page = client.get(reverse("care:activity", args=[activity.pk])).content.decode()
    assert "本街道老人" in page and "邻街道老人" not in page
    # Ticking attendance changes only what the user may see.
    client.post(reverse("care:activity", args=[activity.pk]), {"attended": [str(own_signup.pk)]})
    own_signup.refresh_from_db()
    other_signup.refresh_from_db()
    assert own_signup.attended is True and other_signup.attended is None


def test_supervisor_clears_an_intervention_flag_an_agent_may_not(
    client_factory, user_factory, api_client, now
):
    from pingantong.care.actions import flag_for_intervention

    c = client_factory()
    agent = user_factory("agent", "350404001000")
    flag = flag_for_intervention(client=c, by=agent, reason="需要干预", now=now)
    api_client.force_authenticate(agent)
    assert api_client.post(reverse("care-intervention-flag-clear", args=[flag.pk])).status_code == 404
    api_client.force_authenticate(user_factory("supervisor", "350404001000"))
    assert api_client.post(reverse("care-intervention-flag-clear", args=[flag.pk])).status_code == 200
    flag.refresh_from_db()
    assert flag.cleared_at is not None


def test_care_sweep_command_runs_the_jobs(client_factory):
    from io import StringIO

    from django.core.management import call_command

    client_factory(categories=["living_alone"])
    out = StringIO()
    call_command("care_sweep", stdout=out)
    text = out.getvalue()
    assert "1 tasks opened" in text and "2 calls/visits opened" in text
    call_command("care_sweep", "--only", "confirmation", stdout=out)
    assert Task.objects.filter(kind="confirmation").count() == 1


def test_coverage_page_shows_the_towns_and_the_total(client_factory, user_factory, client, now):
    client_factory(region="350404001001", categories=["living_alone"])
    run_daily_confirmation(now=now)
    client.force_login(user_factory("district", "350404000000"))
    response = client.get(reverse("care:coverage"), {"day": "2026-03-10"})
    assert response.status_code == 200
    assert [r.region_code for r in response.context["rows"]] == ["350404001000"]
    assert response.context["total"].due == 1 and response.context["total"].rate == 0.0
    assert 'data-testid="coverage-total"' in response.content.decode()
