"""Eligibility for the government basic package (E1): 60 or over, 三元区 household registration, and
one of the 7 categories. Anyone 60+ who is not eligible may still take the self-paid service."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .choices import Category
from .idnumber import MINIMUM_AGE, age_on, today_local

DISTRICT_PREFIX = "350404"  # 三元区


@dataclass
class Eligibility:
    eligible: bool
    reasons: list[str] = field(default_factory=list)  # why not (empty when eligible)
    age: int | None = None


def check_eligibility(
    *,
    birth_date: dt.date | None,
    household_region_code: str,
    categories: list[str],
    on: dt.date | None = None,
) -> Eligibility:
    reasons = []
    age = age_on(birth_date, on or today_local()) if birth_date else None
    if age is None:
        reasons.append(_("The age is unknown: enter a valid ID number."))
    elif age < MINIMUM_AGE:
        reasons.append(
            _("Aged %(age)d: the service is for people aged %(min)d or over.")
            % {"age": age, "min": MINIMUM_AGE}
        )
    if not household_region_code:
        reasons.append(_("The household registration (户籍) region is missing."))
    elif not household_region_code.startswith(DISTRICT_PREFIX):
        reasons.append(
            _("The household registration %(code)s is not in 三元区; the basic package needs a local 户籍.")
            % {"code": household_region_code}
        )
    valid = [c for c in categories if c in Category.values]
    if not valid:
        reasons.append(
            _(
                "None of the 7 categories (孤寡, 独居, 空巢, 留守, 失能, 重残, 计划生育特殊家庭) applies; "
                "the client may take the self-paid service instead."
            )
        )
    return Eligibility(eligible=not reasons, reasons=reasons, age=age)
