"""Fictitious clients for tests and demos of every app (never real people).

`make_client(region="350404001001", **fields)` saves an active client with a valid, unique ID number
built from the old 三元区 code 350403 + birth date + sequence + stdnum check digit.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from .choices import Category, ClientStatus, RiskTier
from .idnumber import make_test_id_number
from .models import Client, Contact

VILLAGE = "350404001001"  # 江滨社区 (列东街道)
OTHER_VILLAGE = "350404002001"  # a community of 列西街道
_seq = itertools.count(1)


def make_client(region: str = VILLAGE, **fields: Any) -> Client:
    n = next(_seq)
    fields.setdefault("name", f"测试老人{n}")
    fields.setdefault(
        "id_number", make_test_id_number(dt.date(1940 + n % 20, 1 + n % 12, 1 + n % 28), sequence=n)
    )
    fields.setdefault("status", ClientStatus.ACTIVE)
    fields.setdefault("categories", [Category.LIVING_ALONE])
    fields.setdefault("risk_tier", RiskTier.KEY)
    fields.setdefault("phone", f"139{n:08d}")
    fields.setdefault("home_lat", 26.2634)
    fields.setdefault("home_lon", 117.6389)
    if fields["status"] == ClientStatus.ACTIVE:
        fields.setdefault("enrolled_at", timezone.now())
    return Client.objects.create(region_id=region, **fields)


def make_contact(client: Client, **fields: Any) -> Contact:
    n = next(_seq)
    fields.setdefault("name", f"联系人{n}")
    fields.setdefault("phone", f"137{n:08d}")
    fields.setdefault("priority", client.contacts.count() + 1)
    return Contact.objects.create(client=client, **fields)
