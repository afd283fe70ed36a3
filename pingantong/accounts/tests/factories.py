"""Access-test factories of the accounts app (see pingantong.testing.access_matrix)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from pingantong.accounts.choices import Role
from pingantong.accounts.models import RoleAssignment, Shift
from pingantong.testing.users import make_user


def make_shift_in(region_code: str) -> Shift:
    agent = make_user(Role.AGENT, region_code)
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    return Shift.objects.create(
        user=agent, region_id=region_code, seat="1号坐席", starts_at=start, ends_at=start + timedelta(hours=8)
    )


def make_role_assignment_in(region_code: str) -> RoleAssignment:
    user = make_user()
    return RoleAssignment.objects.create(user=user, role=Role.FIELD_WORKER, region_id=region_code)


def shift_payload(region_code: str) -> dict:
    agent = make_user(Role.AGENT, region_code)
    start = timezone.now().replace(microsecond=0) + timedelta(days=1)
    return {
        "user": agent.pk,
        "region": region_code,
        "seat": "2号坐席",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=8)).isoformat(),
    }


ACCESS_FACTORIES = {"accounts.Shift": make_shift_in, "accounts.RoleAssignment": make_role_assignment_in}
ACCESS_PAYLOADS = {"accounts.Shift": shift_payload}
