"""Access-test factories of the reports app (see pingantong.testing.access_matrix)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

_months = itertools.count(1)


def make_settlement_in(region_code: str):
    from pingantong.reports.models import Settlement

    n = next(_months)
    return Settlement.objects.create(
        region_id=region_code, month=dt.date(2000 + n // 12, 1 + n % 12, 1), rate=Decimal("30")
    )


def make_line_in(region_code: str):
    from pingantong.clients.testing import make_client
    from pingantong.reports.models import SettlementLine

    client = make_client(region=region_code) if len(region_code) == 12 and region_code[9:] != "000" else None
    client = client or make_client()
    return SettlementLine.objects.create(
        settlement=make_settlement_in(region_code),
        region_id=region_code,
        client=client,
        client_name=client.name,
        kind="basic",
        amount=Decimal("30"),
    )


ACCESS_FACTORIES = {"reports.Settlement": make_settlement_in, "reports.SettlementLine": make_line_in}
