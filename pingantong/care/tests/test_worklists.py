"""Worklists per agent and per field worker (web and API): region filter, due-time order, the
life-sign column, and a constant number of queries however many tasks there are."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from pingantong.care.actions import open_task
from pingantong.care.actions.lifesigns import record_life_sign
from pingantong.care.choices import TaskKind

pytestmark = pytest.mark.django_db
TOWN = "350404001000"
VILLAGE_A = "350404001001"
OTHER_TOWN_VILLAGE = "350404002001"


def _tasks(client_factory, n, region=VILLAGE_A, kind=TaskKind.CARE_CALL, start=None):
    start = start or timezone.now()
    out = []
    for i in range(n):
        client = client_factory(region=region)
        out.append(open_task(kind=kind, client=client, due_at=start + dt.timedelta(hours=n - i), reason="r"))
    return out


def test_agent_worklist_api_is_sorted_by_due_time_and_limited_to_the_agents_region(
    client_factory, user_factory, api_client
):
    mine = _tasks(client_factory, 3)
    _tasks(client_factory, 2, region=OTHER_TOWN_VILLAGE)
    visit = _tasks(client_factory, 1, kind=TaskKind.VISIT)[0]
    agent = user_factory("agent", TOWN)
    api_client.force_authenticate(agent)
    response = api_client.get(reverse("care-task-list"), {"scope": "team"})
    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    assert ids == [
        t.pk for t in sorted(mine, key=lambda t: t.due_at)
    ]  # no visit (field workers'), no other town
    worker = user_factory("field_worker", TOWN)
    api_client.force_authenticate(worker)
    ids = [
        row["id"] for row in api_client.get(reverse("care-task-list"), {"scope": "team"}).json()["results"]
    ]
    assert ids == [visit.pk]


def test_region_filter_narrows_a_district_supervisor_to_one_village(client_factory, user_factory, api_client):
    _tasks(client_factory, 2)
    other = _tasks(client_factory, 1, region=OTHER_TOWN_VILLAGE)
    api_client.force_authenticate(user_factory("supervisor", "350404000000"))
    rows = api_client.get(reverse("care-task-list"), {"region": OTHER_TOWN_VILLAGE}).json()["results"]
    assert [r["id"] for r in rows] == [other[0].pk]
    assert api_client.get(reverse("care-task-list"), {"region": "bad"}).json()["results"] == []


def test_worklist_api_query_count_does_not_grow_with_tasks(
    client_factory, user_factory, api_client, django_assert_max_num_queries
):
    agent = user_factory("agent", TOWN)
    api_client.force_authenticate(agent)
    _tasks(client_factory, 3)
    with django_assert_max_num_queries(8) as few:
        api_client.get(reverse("care-task-list"))
    _tasks(client_factory, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api_client.get(reverse("care-task-list"))
    assert len(response.json()["results"]) == 33


def test_worklist_page_query_count_does_not_grow_and_shows_life_sign_column(
    client_factory, user_factory, client, django_assert_max_num_queries
):
    agent = user_factory("agent", TOWN)
    client.force_login(agent)
    tasks = _tasks(client_factory, 3)
    record_life_sign(client=tasks[0].client, at=timezone.now() - dt.timedelta(hours=2), source="visit")
    client.get(reverse("care:worklist"))
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("care:worklist"))
    _tasks(client_factory, 20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("care:worklist"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="life-sign"') == 23
    dues = [t.due_at for t in response.context["object_list"]]
    assert dues == sorted(dues)


def test_task_page_records_an_agents_call_with_structured_notes(client_factory, user_factory, client):
    task = _tasks(client_factory, 1)[0]
    agent = user_factory("agent", TOWN)
    client.force_login(agent)
    page = client.get(reverse("care:task-detail", args=[task.pk]))
    assert page.status_code == 200 and b'data-testid="call-form"' in page.content
    assert task.client.phone in page.content.decode()  # to dial; the read is audited
    from auditlog.models import LogEntry

    assert LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, object_pk=str(task.client.pk), additional_data__purpose="care call"
    ).exists()
    response = client.post(
        reverse("care:task-action", args=[task.pk, "call"]),
        {
            "result": "answered",
            "mood": "good",
            "health": "fair",
            "needs": ["daily_living"],
            "concerns": "",
            "notes": "Doing fine",
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == "done" and task.notes["needs"] == ["daily_living"]
    assert task.client.care_calls.get().agent == agent


def test_a_bad_call_form_changes_nothing(client_factory, user_factory, client):
    task = _tasks(client_factory, 1)[0]
    client.force_login(user_factory("agent", TOWN))
    client.post(reverse("care:task-action", args=[task.pk, "call"]), {"result": "maybe"})
    task.refresh_from_db()
    assert task.status == "open" and not task.client.care_calls.exists()


def test_other_towns_task_page_is_not_found(client_factory, user_factory, client):
    task = _tasks(client_factory, 1, region=OTHER_TOWN_VILLAGE)[0]
    client.force_login(user_factory("agent", TOWN))
    assert client.get(reverse("care:task-detail", args=[task.pk])).status_code == 404
    assert client.post(reverse("care:task-action", args=[task.pk, "start"])).status_code == 404


def test_home_widget_counts_overdue_tasks(client_factory, user_factory, client):
    _tasks(client_factory, 2, start=timezone.now() - dt.timedelta(days=1))
    client.force_login(user_factory("agent", TOWN))
    html = client.get(reverse("home")).content.decode()
    assert 'data-testid="care-widget"' in html


def test_worklist_pages_of_tasks_sharing_one_due_time_follow_due_time_then_id(client_factory, user_factory):
    """A day's confirmations all share one due time (decision 0087): pages read (due_at, id) per
    status, merge them, and read the page's rows by id; no task is skipped or repeated."""
    from pingantong.care.choices import TaskStatus
    from pingantong.care.models import Task
    from pingantong.care.selectors.worklist import worklist, worklist_page

    due = timezone.now() + dt.timedelta(hours=24)
    tasks = [
        open_task(kind=TaskKind.CONFIRMATION, client=c, due_at=due, reason="r")
        for c in [client_factory() for _ in range(7)]
    ]
    earlier = open_task(
        kind=TaskKind.CARE_CALL, client=client_factory(), due_at=due - dt.timedelta(hours=1), reason="r"
    )
    Task.objects.filter(pk__in=[tasks[1].pk, tasks[4].pk]).update(status=TaskStatus.ESCALATED)
    supervisor = user_factory("supervisor", "350404000000")
    qs = worklist(supervisor, scope="all")
    seen = []
    page, more = 1, True
    while more:
        rows, more = worklist_page(qs, page=page, size=3)
        seen.extend(t.pk for t in rows)
        assert all(t.client is not None and t.region is not None for t in rows)  # joins kept
        page += 1
    assert seen == [earlier.pk, *sorted(t.pk for t in tasks)]
    assert page == 4  # 8 tasks: pages of 3, 3, 2
