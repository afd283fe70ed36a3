"""Demo clients (服务对象) with their contacts, consents and service agreements, in bulk.

The mix follows the plan: the seven categories of special difficulty (E1) with realistic shares, a
few self-paid clients, risk tiers and ability grades that follow from them, contacts in calling
order (children first, a neighbour with a key, the street-designated contact for the special-
difficulty clients, S01), consents recorded at enrolment (X2) and a signed agreement each (P2).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from . import people

CATEGORY_SHARES = (  # (category, weight)
    ("living_alone", 35),
    ("empty_nest", 30),
    ("left_behind", 10),
    ("childless", 8),
    ("incapacitated", 8),
    ("family_planning", 5),
    ("severe_disability", 4),
)
SPECIAL_DIFFICULTY = {"childless", "incapacitated", "severe_disability", "family_planning"}
CONSENT_RATES = {"location_query": 0.92, "location_share": 0.95, "health_data": 0.7, "provincial_sync": 1.0}


def _categories(rng: random.Random) -> list[str]:
    names = [c for c, _w in CATEGORY_SHARES]
    weights = [w for _c, w in CATEGORY_SHARES]
    first = rng.choices(names, weights)[0]
    if rng.random() < 0.2:
        second = rng.choices(names, weights)[0]
        if second != first and {first, second} != {"living_alone", "empty_nest"}:
            return [first, second]
    return [first]


def _tier_and_grade(rng: random.Random, categories: list[str], age: int) -> tuple[str, str]:
    if {"incapacitated", "severe_disability"} & set(categories):
        return "high", rng.choice(["moderate", "severe", "total"])
    if age >= 85 or ("childless" in categories and rng.random() < 0.5):
        return "high", rng.choice(["mild", "moderate"])
    if {"living_alone", "empty_nest", "left_behind", "childless"} & set(categories):
        return "key", rng.choice(["intact", "mild", "mild", "unassessed"])
    return "general", rng.choice(["intact", "unassessed"])


def _living(categories: list[str]) -> str:
    if {"living_alone", "childless"} & set(categories):
        return "alone"
    if "incapacitated" in categories or "severe_disability" in categories:
        return "with_carer"
    if "empty_nest" in categories:
        return "with_spouse"
    return "with_family"


def build_clients(count: int, villages: list[Any], seed: int, *, created_by: Any = None) -> list[Any]:
    """Unsaved Client objects, deterministic for the seed; `villages` are Region rows (level 5)."""
    from pingantong.clients.models import Client

    rng = random.Random(f"{seed}:clients")
    today = timezone.localdate()
    now = timezone.now()
    result = []
    for index in range(count):
        person = people.elderly_person(rng, index)
        village = villages[index % len(villages)]
        age = today.year - person.birth_date.year
        self_paid = rng.random() < 0.08
        categories = [] if self_paid else _categories(rng)
        tier, grade = _tier_and_grade(rng, categories, age)
        lat, lon = people.home_near(rng, village.code)
        town_name = village.parent.display_name if village.parent_id else ""
        urban = "社区" in village.name
        enrolled = now - dt.timedelta(days=rng.randint(20, 700), hours=rng.randint(0, 23))
        client = Client(
            name=person.name,
            household_region_code=village.code,
            region_id=village.code,
            address=people.address(rng, town_name, village.display_name, urban),
            home_lat=lat,
            home_lon=lon,
            home_location_source="installer_checkin",
            phone=people.phone("1990000", index),
            dialect=rng.choice(people.DIALECTS),
            living_situation=_living(categories),
            categories=categories,
            risk_tier=tier,
            ability_grade=grade,
            medical_notes=rng.choice(
                ["", "", "高血压，服用氨氯地平", "2型糖尿病", "冠心病史", "轻度认知障碍"]
            ),
            allergies=rng.choice(["", "", "", "青霉素过敏"]),
            key_holder=rng.choice(["", "邻居", "女儿", "社区网格员"]),
            paying_scheme="self_paid" if self_paid else "basic_package",
            monthly_price=Decimal(rng.choice(["48.00", "58.00", "68.00"])) if self_paid else None,
            status="suspended" if index % 75 == 74 else "active",
            enrolled_at=enrolled,
            notes="演示数据（虚构）",
            created_by=created_by,
        )
        client.id_number = person.id_number  # encrypts, indexes, masks; sets birth date, gender
        result.append(client)
    return result


def build_contacts(clients: list[Any], street_contacts: dict[str, tuple[str, str]], seed: int) -> list[Any]:
    """Contacts in calling order; `street_contacts` maps a town prefix to (name, phone)."""
    from pingantong.clients.models import Contact

    rng = random.Random(f"{seed}:contacts")
    contacts: list[Any] = []
    serial = 0
    per_client: dict[int, int] = {}

    def add(client: Any, **fields: Any) -> None:
        nonlocal serial
        serial += 1
        fields.setdefault("phone", people.phone("1980000", serial))
        per_client[id(client)] = per_client.get(id(client), 0) + 1
        contacts.append(Contact(client=client, priority=per_client[id(client)], **fields))

    for client in clients:
        surname = client.name[0]
        if "childless" not in client.categories:
            for _child in range(rng.choice([1, 1, 2])):
                son = rng.random() < 0.5
                add(
                    client,
                    name=people.relative_name(rng, surname, same_surname=son),
                    relation="child",
                    preferred_channel=rng.choice(["voice", "sms", "wechat"]),
                    lives_nearby=rng.random() < 0.3,
                    availability_notes=rng.choice(["", "在厦门工作", "在福州工作", "白天上班，晚上可接"]),
                )
        add(
            client,
            name=people.relative_name(rng, surname, same_surname=False),
            relation="neighbour",
            preferred_channel="voice",
            lives_nearby=True,
            has_key=rng.random() < 0.4,
        )
        if SPECIAL_DIFFICULTY & set(client.categories) or client.risk_tier == "high":
            name, number = street_contacts[client.region_id[:9]]
            add(
                client,
                name=name,
                phone=number,
                relation="street_designated",
                is_street_designated=True,
                preferred_channel="voice",
                lives_nearby=True,
            )
    return contacts


def build_consents(clients: list[Any], seed: int, recorded_by: Any) -> list[Any]:
    from pingantong.clients.models import Consent

    rng = random.Random(f"{seed}:consents")
    return [
        Consent(
            client=client,
            purpose=purpose,
            granted=rng.random() < rate,
            effective_at=client.enrolled_at,
            method="written",
            recorded_by=recorded_by,
        )
        for client in clients
        for purpose, rate in CONSENT_RATES.items()
    ]


def create_agreements(clients: list[Any], seed: int, signatory: Any) -> int:
    """A signed agreement per client: every basic item, and a few extended ones for some (P2)."""
    from pingantong.clients.actions.agreements import DISPUTE_RESOLUTION, RIGHTS_AND_DUTIES, RISK_SHARING
    from pingantong.clients.models import Agreement, ServiceItem

    rng = random.Random(f"{seed}:agreements")
    basic = list(ServiceItem.objects.filter(kind="basic", active=True).values_list("code", flat=True))
    extended = {item.code: item for item in ServiceItem.objects.filter(kind="extended", active=True)}
    agreements, chosen = [], []
    for client in clients:
        extras = [c for c in ("S09", "S10", "S22", "S25") if c in extended and rng.random() < 0.15]
        start = client.enrolled_at.date()
        agreements.append(
            Agreement(
                client=client,
                status="signed",
                basic_monthly_fee=client.monthly_price or Decimal("30.00"),
                extended_monthly_fee=sum((extended[c].monthly_price for c in extras), Decimal("0")),
                rights_and_duties=RIGHTS_AND_DUTIES,
                risk_sharing=RISK_SHARING,
                dispute_resolution=DISPUTE_RESOLUTION,
                starts_on=start,
                signed_on=start,
                signed_by=client.name,
                signer_relation="本人",
                agency_signatory=signatory,
            )
        )
        chosen.append(basic + extras)
    Agreement.objects.bulk_create(agreements)
    Through = Agreement.items.through
    Through.objects.bulk_create(
        [
            Through(agreement_id=a.pk, serviceitem_id=code)
            for a, codes in zip(agreements, chosen, strict=True)
            for code in codes
        ]
    )
    return len(agreements)
