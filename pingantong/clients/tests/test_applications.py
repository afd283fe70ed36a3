"""The whole P1 chain through the web pages, role by role: village files, township approves or returns
with a reason, district records; each step timestamped, visible above, the next role notified."""

import pytest
from django.urls import reverse

from pingantong.accounts.choices import Role
from pingantong.clients.choices import ApplicationStatus, ClientStatus
from pingantong.clients.idnumber import make_test_id_number
from pingantong.clients.models import Application, Client

from .conftest import OTHER_TOWN, VILLAGE

pytestmark = pytest.mark.django_db


def _form(**over):
    data = {
        "name": "李桂兰",
        "id_number": make_test_id_number(sequence=301, female=True),
        "region": VILLAGE,
        "household_region_code": VILLAGE,
        "address": "列东街道江滨路1号",
        "phone": "13905980001",
        "living_situation": "alone",
        "categories": ["living_alone", "childless"],
        "requested_scheme": "basic_package",
        "statement": "独居，子女在外地",
    }
    data.update(over)
    return data


def _file(client, user, **over):
    client.force_login(user)
    return client.post(reverse("clients:application-new"), _form(**over))


def test_whole_chain_village_files_township_approves_district_records_agent_sees_client(
    client, village_user, township_user, district_user, agent, user_factory
):
    response = _file(client, village_user)
    assert response.status_code == 302, response.content.decode()[:2000]
    application = Application.objects.get()
    assert application.status == ApplicationStatus.FILED and application.eligible
    assert application.client.status == ClientStatus.APPLYING

    # The township is notified and sees it; a sibling township does not.
    client.force_login(township_user)
    page = client.get(reverse("clients:applications")).content.decode()
    assert "李桂兰" in page
    from pingantong.clients.views.applications import notices_for

    assert [n.application_id for n in notices_for(township_user)] == [application.pk]
    other = user_factory(Role.TOWNSHIP, OTHER_TOWN)
    client.force_login(other)
    assert "李桂兰" not in client.get(reverse("clients:applications")).content.decode()
    response = client.post(
        reverse("clients:application-decide", args=[application.pk]), {"decision": "approve"}
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.FILED  # the sibling township cannot decide

    # The village cannot approve its own application.
    client.force_login(village_user)
    client.post(reverse("clients:application-decide", args=[application.pk]), {"decision": "approve"})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.FILED

    client.force_login(township_user)
    client.post(
        reverse("clients:application-decide", args=[application.pk]), {"decision": "approve", "note": "符合"}
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED and application.decided_at is not None
    assert application.client.status == ClientStatus.ACTIVE and application.client.enrolled_at is not None

    client.force_login(district_user)
    page = client.get(reverse("clients:applications")).content.decode()
    assert "李桂兰" in page  # notice + list for the role above
    client.post(reverse("clients:application-decide", args=[application.pk]), {"decision": "record"})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.RECORDED and application.recorded_at is not None
    steps = list(application.steps.values_list("action", "role"))
    assert steps == [("file", "village"), ("approve", "township"), ("record", "district")]
    assert all(step.at for step in application.steps.all())

    client.force_login(agent)
    assert "李桂兰" in client.get(reverse("clients:list")).content.decode()


def test_township_returns_with_reason_and_the_village_is_notified(client, village_user, township_user):
    from pingantong.clients import actions
    from pingantong.clients.views.applications import notices_for

    _file(client, village_user)
    application = Application.objects.get()
    client.force_login(township_user)
    client.post(
        reverse("clients:application-decide", args=[application.pk]), {"decision": "return", "note": ""}
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.FILED  # a return needs a reason
    client.post(
        reverse("clients:application-decide", args=[application.pk]),
        {"decision": "return", "note": "缺户口本复印件"},
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.RETURNED and application.return_reason == "缺户口本复印件"
    assert any("缺户口本复印件" in n.message for n in notices_for(village_user))
    actions.refile_application(application=application, by=village_user, note="已补")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.FILED
    assert not any("缺户口本复印件" in n.message for n in notices_for(village_user))


def test_ineligible_for_basic_package_is_explained_and_nothing_is_saved(client, village_user):
    response = _file(client, village_user, categories=[], household_region_code="350102001001")
    assert response.status_code == 200
    page = response.content.decode()
    assert "not in 三元区" in page or "不在三元区" in page or "350102001001" in page
    assert not Client.objects.exists() and not Application.objects.exists()


def test_not_eligible_may_still_apply_self_paid(client, village_user):
    response = _file(client, village_user, categories=[], requested_scheme="self_paid")
    assert response.status_code == 302
    application = Application.objects.get()
    assert not application.eligible and application.eligibility_notes


def test_under_60_is_refused_on_the_form(client, village_user):
    import datetime as dt

    young = make_test_id_number(dt.date(1980, 5, 5), sequence=302)
    response = _file(client, village_user, id_number=young)
    assert response.status_code == 200
    assert 'data-testid="error-id_number"' in response.content.decode()
    assert not Client.objects.exists()


def test_only_village_users_may_file(client, township_user):
    response = _file(client, township_user)
    assert response.status_code == 403
