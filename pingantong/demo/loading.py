"""The demonstration district: a few hundred fictitious clients of 三元区 at work (issue 10).

`load_demo()` is what `pingantong run` calls on an empty database when PINGANTONG_DEMO is on, and
what `pingantong loaddemo` runs. It is deterministic (seeded), fast (bulk inserts, one password
hash; a few seconds for 300 clients) and loads once: a `DemoLoad` row records the load, and a
second call returns without touching anything.

Each part (staff, clients, devices, roster, applications, care schedule) runs in its own savepoint.
A part whose app is not ready (model or action missing) is skipped with a printed note instead of
failing the whole start-up; the note says what was missing.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.conf import settings
from django.db import transaction

from . import people

log = logging.getLogger("pingantong.demo")

DEFAULT_SEED = 3504
DEFAULT_CLIENTS = 300
VILLAGES_PER_TOWN = 3
LOGINS_FILE = "demo-logins.txt"


@dataclass
class DemoResult:
    loaded: bool
    password: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    logins: list[Any] = field(default_factory=list)
    seconds: float = 0.0


def is_loaded() -> bool:
    from .models import DemoLoad

    return DemoLoad.objects.exists()


def demo_villages(seed: int) -> list[Any]:
    """Up to three real villages/communities (level 5) per township of 三元区, chosen by the seed."""
    from pingantong.regions.models import Region

    rng = random.Random(f"{seed}:villages")
    villages = list(
        Region.objects.filter(code__startswith=people.ID_REGION, level=5)
        .select_related("parent")
        .order_by("code")
    )
    by_town: dict[str, list[Any]] = {}
    for village in villages:
        by_town.setdefault(village.code[:9], []).append(village)
    chosen = []
    for town in sorted(by_town):
        members = by_town[town]
        chosen.extend(sorted(rng.sample(members, min(VILLAGES_PER_TOWN, len(members))), key=lambda r: r.code))
    return chosen


def load_demo(
    stdout: TextIO | Any = None,
    *,
    clients: int | None = None,
    seed: int = DEFAULT_SEED,
    password: str | None = None,
) -> DemoResult:
    """Load the demo district once; print what was made and the logins (also to var/demo-logins.txt)."""
    from .models import DemoLoad

    out = stdout or sys.stdout
    if is_loaded():
        _say(out, "demo data is already loaded; nothing to do")
        return DemoResult(loaded=False)
    started = time.perf_counter()
    clients = clients or int(os.environ.get("PINGANTONG_DEMO_CLIENTS", "") or DEFAULT_CLIENTS)
    password = password or os.environ.get("PINGANTONG_DEMO_PASSWORD") or _new_password()
    result = DemoResult(loaded=True, password=password)
    villages = demo_villages(seed)
    if not villages:
        _say(out, "demo: no villages of 三元区 (350404) in the regions table; run `pingantong loadregions`")
        return DemoResult(loaded=False)
    state: dict[str, Any] = {"villages": villages, "seed": seed, "password": password, "clients": clients}
    _say(out, f"Loading the demonstration district (三元区, {clients} clients, seed {seed}) ...")
    for name, part in PARTS:
        try:
            with transaction.atomic():
                counts = part(state)
        except (ImportError, LookupError, AttributeError, TypeError) as exc:
            # An app that is not ready yet (model, field or action missing): skip, say so.
            result.skipped[name] = f"{type(exc).__name__}: {exc}"
            _say(out, f"  - {name}: skipped ({result.skipped[name]})")
            log.warning("demo part %s skipped", name, exc_info=True)
            continue
        except Exception as exc:  # a real failure in one part must not stop `run` from starting
            result.skipped[name] = f"{type(exc).__name__}: {exc}"
            _say(out, f"  - {name}: FAILED ({result.skipped[name]})")
            log.exception("demo part %s failed", name)
            continue
        result.counts.update(counts)
        _say(out, "  - " + name + ": " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    result.logins = state.get("logins", [])
    DemoLoad.objects.create(seed=seed, counts=result.counts, skipped=result.skipped)
    result.seconds = round(time.perf_counter() - started, 1)
    _print_logins(out, result)
    return result


def _new_password() -> str:
    return "demo-" + secrets.token_urlsafe(8)


def _say(out: Any, text: str) -> None:
    out.write(text if text.endswith("\n") else text + "\n")


# --- the parts, in order; each takes the shared state and returns what it created -------------


def _part_staff(state: dict[str, Any]) -> dict[str, int]:
    from .staff import create_staff, plan_staff

    by_town: dict[str, list[str]] = {}
    for village in state["villages"]:
        by_town.setdefault(village.code[:9].ljust(12, "0"), []).append(village.code)
    logins = plan_staff(by_town)
    users = create_staff(logins, state["password"])
    state["logins"], state["users"] = logins, users
    return {"staff": len(users)}


def _part_clients(state: dict[str, Any]) -> dict[str, int]:
    from pingantong.clients.models import Client, Consent, Contact

    from . import residents

    users = state.get("users", {})
    agent = users.get("agent01")
    built = residents.build_clients(state["clients"], state["villages"], state["seed"], created_by=agent)
    Client.objects.bulk_create(built)
    rng = random.Random(f"{state['seed']}:street")
    street = {
        v.code[:9]: (
            f"{rng.choice(people.SURNAMES)}{rng.choice(people.GIVEN_YOUNGER)}（网格员）",
            people.phone("1960000", i),
        )
        for i, v in enumerate(state["villages"])
    }
    contacts = residents.build_contacts(built, street, state["seed"])
    Contact.objects.bulk_create(contacts)
    consents = residents.build_consents(built, state["seed"], agent)
    Consent.objects.bulk_create(consents)
    state["client_objects"] = built
    return {"clients": len(built), "contacts": len(contacts), "consents": len(consents)}


def _part_agreements(state: dict[str, Any]) -> dict[str, int]:
    from . import residents

    built = state.get("client_objects") or []
    signatory = state.get("users", {}).get("agencyadmin01")
    return {"agreements": residents.create_agreements(built, state["seed"], signatory)} if built else {}


def _part_devices(state: dict[str, Any]) -> dict[str, int]:
    from .terminals import create_devices

    built = state.get("client_objects") or []
    return {"devices": create_devices(built, state["seed"])} if built else {}


def _part_roster(state: dict[str, Any]) -> dict[str, int]:
    from .staff import create_roster

    return {"shifts": create_roster(state.get("users", {}))}


def _part_applications(state: dict[str, Any]) -> dict[str, int]:
    """A few applications waiting in the P1 flow, filed through the clients app's own action."""
    from pingantong.clients.actions.applications import file_application

    rng = random.Random(f"{state['seed']}:applications")
    users = state.get("users", {})
    filed = 0
    for n, login in enumerate(x for x in state.get("logins", []) if x.role == "village"):
        if n >= 6:
            break
        person = people.elderly_person(rng, 400 + n)
        village = login.regions[0]
        lat, lon = people.home_near(rng, village)
        file_application(
            by=users[login.username],
            id_number=person.id_number,
            statement="本人独居，子女在外地工作，申请平安通基础服务。",
            name=person.name,
            region_id=village,
            household_region_code=village,
            categories=["living_alone"],
            phone=people.phone("1990001", n),
            home_lat=lat,
            home_lon=lon,
        )
        filed += 1
    return {"applications": filed}


def _part_care(state: dict[str, Any]) -> dict[str, int]:
    """Open today's care calls and visits for the demo clients (the care app's own scheduler)."""
    from pingantong.care.actions.schedule import schedule_care_work

    outcome = schedule_care_work()
    return {"care tasks": len(getattr(outcome, "opened", []))}


PARTS: list[tuple[str, Callable[[dict[str, Any]], dict[str, int]]]] = [
    ("staff", _part_staff),
    ("clients, contacts, consents", _part_clients),
    ("agreements", _part_agreements),
    ("devices", _part_devices),
    ("call-centre roster", _part_roster),
    ("applications", _part_applications),
    ("care schedule", _part_care),
]


def _print_logins(out: Any, result: DemoResult) -> None:
    lines = [
        "平安通 demonstration district (三元区) — fictitious people, for trying the system only",
        f"password for every demo login / 所有演示账号的密码: {result.password}",
        "",
        f"{'username':16} {'role':14} regions",
    ]
    for login in result.logins:
        lines.append(f"{login.username:16} {login.role:14} {', '.join(login.regions)}")
    path = settings.VAR_DIR / LOGINS_FILE
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    bar = "=" * 64
    _say(out, bar)
    _say(out, f"  Demo district loaded in {result.seconds} s / 演示数据已载入")
    _say(out, "  logins / 演示账号: agent01 (坐席), field01, supervisor01, agencyadmin01,")
    _say(out, "    village01, township01, district01, auditor01, sysadmin01 … (full list in the file)")
    _say(out, f"  password / 密码: {result.password}")
    _say(out, f"  (saved in {path})")
    _say(out, bar)
