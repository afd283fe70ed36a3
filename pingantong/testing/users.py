"""Users with roles for tests."""

from __future__ import annotations

import itertools

from pingantong.accounts.models import RoleAssignment, User

PASSWORD = "Correct-Horse-42"
_seq = itertools.count(1)

# Real codes loaded by the regions migration (三元区 and two of its towns/streets).
DISTRICT = "350404000000"


def make_user(
    role: str | None = None, region: str = DISTRICT, *, username: str | None = None, **extra
) -> User:
    user = User.objects.create_user(
        username=username or f"user{next(_seq)}",
        password=PASSWORD,
        display_name=extra.pop("display_name", ""),
        **extra,
    )
    if role:
        RoleAssignment.objects.create(user=user, role=role, region_id=region)
    return user
