"""Demo staff: one or more logins for every role, each scoped to a real region of 三元区.

Every account shares one demo password; it is hashed once and the hash reused, because hashing it
forty times (PBKDF2, ~0.3 s each on a small machine) would take most of the loader's time budget.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from pingantong.accounts.choices import Role

from .people import DISTRICT_CODE, GIVEN_YOUNGER, SURNAMES, phone


@dataclass(frozen=True)
class Login:
    username: str
    role: str
    regions: tuple[str, ...]
    display_name: str


def plan_staff(villages_by_town: dict[str, list[str]]) -> list[Login]:
    """Who works in the demo: agency staff at the district, government staff at their own level.

    `villages_by_town` maps a town code (12 digits) to the demo villages in it (those with clients).
    """
    rng = random.Random("demo-staff")
    towns = sorted(villages_by_town)

    def name() -> str:
        return f"{rng.choice(SURNAMES)}{rng.choice(GIVEN_YOUNGER)}"

    logins: list[Login] = []
    for n in range(1, 5):
        logins.append(Login(f"agent{n:02d}", Role.AGENT, (DISTRICT_CODE,), name()))
    # Field workers each cover a few townships (their visits and installations).
    for n in range(4):
        share = tuple(towns[n::4]) or (DISTRICT_CODE,)
        logins.append(Login(f"field{n + 1:02d}", Role.FIELD_WORKER, share, name()))
    logins.append(Login("supervisor01", Role.SUPERVISOR, (DISTRICT_CODE,), name()))
    logins.append(Login("agencyadmin01", Role.AGENCY_ADMIN, (DISTRICT_CODE,), name()))
    for n, town in enumerate(towns, start=1):
        logins.append(Login(f"township{n:02d}", Role.TOWNSHIP, (town,), name()))
        # One village/community committee login per township, for its demo villages.
        logins.append(Login(f"village{n:02d}", Role.VILLAGE, tuple(villages_by_town[town]), name()))
    logins.append(Login("district01", Role.DISTRICT, (DISTRICT_CODE,), name()))
    logins.append(Login("auditor01", Role.AUDITOR, (DISTRICT_CODE,), name()))
    logins.append(Login("sysadmin01", Role.SYSADMIN, (DISTRICT_CODE,), name()))
    return logins


def create_staff(logins: list[Login], password: str) -> dict[str, Any]:
    """Create the users and their role assignments in bulk; returns users by username."""
    from pingantong.accounts.models import RoleAssignment, User

    hashed = make_password(password)
    users = [
        User(
            username=login.username,
            display_name=login.display_name,
            phone=phone("1970000", index),
            password=hashed,
            is_staff=login.role in (Role.SYSADMIN,),
        )
        for index, login in enumerate(logins, start=1)
    ]
    User.objects.bulk_create(users)
    by_name = {u.username: u for u in User.objects.filter(username__in=[login.username for login in logins])}
    RoleAssignment.objects.bulk_create(
        [
            RoleAssignment(user=by_name[login.username], role=login.role, region_id=region)
            for login in logins
            for region in login.regions
        ]
    )
    return dict(by_name)


def create_roster(users: dict[str, Any], *, days: int = 7) -> int:
    """A week of 24-hour cover for the call centre (O1): two agent seats in three shifts a day."""
    from pingantong.accounts.models import Shift

    agents = sorted(name for name in users if name.startswith("agent"))
    if not agents:
        return 0
    local = dt.timezone(dt.timedelta(hours=8))
    today = timezone.now().astimezone(local).date()
    shifts = []
    rotation = 0
    for day in range(-1, days):
        date = today + dt.timedelta(days=day)
        for start_hour in (0, 8, 16):
            starts = dt.datetime(date.year, date.month, date.day, start_hour, tzinfo=local)
            for seat in ("坐席1", "坐席2"):
                user = users[agents[rotation % len(agents)]]
                rotation += 1
                shifts.append(
                    Shift(
                        user=user,
                        region_id=DISTRICT_CODE,
                        seat=seat,
                        starts_at=starts.astimezone(dt.UTC),
                        ends_at=(starts + dt.timedelta(hours=8)).astimezone(dt.UTC),
                    )
                )
    Shift.objects.bulk_create(shifts)
    return len(shifts)
