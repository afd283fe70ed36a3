"""The device subsidy rules of F2, as a pure function of the facts, plus the household key.

F2: devices are voluntary, one per household, the first installation is free; no second free basic
device; damage by the client's fault is paid by the client; a multi-function device costs the
client the price difference. Maintenance (a replacement that is not the client's fault) is funded
at the subsidy rate, so it is free to the client.

A household is the clients at the same home address in the same village: the Client model has no
household id, so `household_key` normalises the address (full-width characters, spaces, case) and
prefixes the village code. A client without an address is a household of one
(docs/decisions/0070-device-subsidy-household.md).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from .choices import ChargeKind

ZERO = Decimal("0.00")


def household_key(client: Any) -> str:
    """Village code + normalised address; a client without an address is their own household."""
    address = unicodedata.normalize("NFKC", client.address or "").lower()
    address = re.sub(r"[\s,，.。]+", "", address)
    if not address:
        return f"client:{client.pk}"
    return f"{client.region_id}:{address}"[:120]


@dataclass(frozen=True, slots=True)
class ChargeDecision:
    kind: str
    price: Decimal
    subsidy_amount: Decimal
    client_amount: Decimal
    uses_basic_subsidy: bool
    explanation: str


def decide_charge(
    *,
    price: Decimal,
    basic_terminal: bool,
    multi_function: bool,
    household_has_free_basic: bool,
    standard_basic_price: Decimal,
    replacement: bool = False,
    client_damaged: bool = False,
) -> ChargeDecision:
    """What the client pays for one device, and why (the sentence is shown to the client)."""
    price = Decimal(price).quantize(ZERO)
    if replacement:
        if client_damaged:
            return ChargeDecision(
                ChargeKind.DAMAGE_REPLACEMENT,
                price,
                ZERO,
                price,
                False,
                _(
                    "The device it replaces was damaged by the client's fault: the client pays the "
                    "full price of ¥%(price)s (F2)."
                )
                % {"price": price},
            )
        return ChargeDecision(
            ChargeKind.WARRANTY_REPLACEMENT,
            price,
            price,
            ZERO,
            False,
            _(
                "Replacement of a device that failed through no fault of the client: maintenance "
                "is funded by the subsidy, the client pays nothing (F2)."
            ),
        )
    if basic_terminal and not household_has_free_basic:
        if multi_function and price > standard_basic_price:
            difference = (price - standard_basic_price).quantize(ZERO)
            return ChargeDecision(
                ChargeKind.MULTI_FUNCTION_DIFFERENCE,
                price,
                standard_basic_price.quantize(ZERO),
                difference,
                True,
                _(
                    "First basic terminal of the household is free, but this is a multi-function "
                    "model: the client pays the difference ¥%(price)s − ¥%(basic)s = ¥%(diff)s (F2)."
                )
                % {"price": price, "basic": standard_basic_price.quantize(ZERO), "diff": difference},
            )
        return ChargeDecision(
            ChargeKind.FIRST_BASIC_FREE,
            price,
            price,
            ZERO,
            True,
            _("First basic terminal of the household: installed free of charge (F2)."),
        )
    if basic_terminal:
        return ChargeDecision(
            ChargeKind.SECOND_BASIC,
            price,
            ZERO,
            price,
            False,
            _(
                "The household already has its free basic terminal (one per household, no second "
                "free basic device): the client pays the full price of ¥%(price)s (F2)."
            )
            % {"price": price},
        )
    return ChargeDecision(
        ChargeKind.ADDITIONAL_DEVICE,
        price,
        ZERO,
        price,
        False,
        _(
            "Only the first basic terminal is subsidised; this additional device costs the client "
            "¥%(price)s (F2, voluntary)."
        )
        % {"price": price},
    )
