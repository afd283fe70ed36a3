"""Access-test factories of the care app (see pingantong.testing.access_matrix): one saved record
in the given region for each restricted care model with an API or list page."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def _client(region: str):
    from pingantong.clients.testing import make_client

    return make_client(region=region)


def make_task(region: str):
    from pingantong.care.models import Task

    now = timezone.now()
    client = _client(region)
    # No team: every worklist scope that may see the region shows it.
    return Task.objects.create(
        kind="follow_up",
        client=client,
        region_id=client.region_id,
        due_at=now,
        reason="access test",
        created_at=now,
        updated_at=now,
    )


def make_call(region: str):
    from pingantong.care.models import CareCall

    client = _client(region)
    return CareCall.objects.create(
        client=client, region_id=client.region_id, at=timezone.now(), result="answered"
    )


def make_visit(region: str):
    from pingantong.care.models import Visit

    client = _client(region)
    return Visit.objects.create(client=client, region_id=client.region_id)


def make_life_sign(region: str):
    from pingantong.care.models import LifeSign

    client = _client(region)
    return LifeSign.objects.create(
        client=client, region_id=client.region_id, at=timezone.now(), source="visit"
    )


def make_referral(region: str):
    from pingantong.care.models import Referral

    client = _client(region)
    return Referral.objects.create(
        client=client,
        region_id=client.region_id,
        kind="medical_online",
        reason="access test",
        referred_at=timezone.now(),
    )


def make_counselling(region: str):
    from pingantong.care.models import CounsellingSession

    client = _client(region)
    return CounsellingSession.objects.create(
        client=client, region_id=client.region_id, at=timezone.now(), mode="phone", summary="access test"
    )


def make_partner(region: str):
    from pingantong.care.models import PartnerOrganisation

    return PartnerOrganisation.objects.create(name="社工站", kind="social_work_station", region_id=region)


def make_directory_entry(region: str):
    from pingantong.care.models import DirectoryEntry

    return DirectoryEntry.objects.create(category="policy", title="政策", region_id=region, summary="x")


def make_activity(region: str):
    from pingantong.care.models import Activity

    return Activity.objects.create(
        title="健康讲座",
        kind="health_talk",
        region_id=region,
        starts_at=timezone.now() + dt.timedelta(days=3),
        location="社区",
    )


def make_flag(region: str):
    from pingantong.care.models import InterventionFlag

    client = _client(region)
    return InterventionFlag.objects.create(
        client=client, region_id=client.region_id, reason="x", raised_at=timezone.now()
    )


def make_signup(region: str):
    from pingantong.care.models import ActivitySignup

    return ActivitySignup.objects.create(
        activity=make_activity(region), client=_client(region), signed_up_at=timezone.now()
    )


def make_task_event(region: str):
    from pingantong.care.models import TaskEvent

    return TaskEvent.objects.create(
        task=make_task(region), at=timezone.now(), kind="note", detail="access test"
    )


def make_visit_photo(region: str):
    from pingantong.care.models import VisitPhoto

    # The file itself does not matter to access: a stored name is enough.
    return VisitPhoto.objects.create(
        visit=make_visit(region), image="care/visits/access-test.jpg", uploaded_at=timezone.now()
    )


def make_coverage(region: str):
    from pingantong.care.models import DailyCoverage

    return DailyCoverage.objects.create(
        region_id=region, day=timezone.localdate(), due=3, confirmed_by_life_sign=1, swept_at=timezone.now()
    )


ACCESS_FACTORIES = {
    "care.Task": make_task,
    "care.CareCall": make_call,
    "care.Visit": make_visit,
    "care.LifeSign": make_life_sign,
    "care.Referral": make_referral,
    "care.CounsellingSession": make_counselling,
    "care.PartnerOrganisation": make_partner,
    "care.DirectoryEntry": make_directory_entry,
    "care.Activity": make_activity,
    "care.InterventionFlag": make_flag,
    "care.ActivitySignup": make_signup,
    "care.TaskEvent": make_task_event,
    "care.VisitPhoto": make_visit_photo,
    "care.DailyCoverage": make_coverage,
}

# The coverage API sums the sweep's rows up one level below the district: each row's "region" is
# the town whose villages it adds up (see care.selectors.coverage).
ACCESS_AGGREGATE_LISTS = {"care.DailyCoverage": "region"}

# Records that only a restricted parent's pages show (checked by the matrix at the queryset level).
ACCESS_UNLISTED = {
    "care.ActivitySignup": "made and read through the restricted Activity (POST activities/<id>/signup/, "
    "attendance/, the activity page)",
    "care.TaskEvent": "a task's history, nested in the restricted Task (API detail `events`, the task page)",
    "care.VisitPhoto": "uploaded with a visit and shown on the restricted Visit's page",
}
