"""Resident ID numbers (GB 11643, 居民身份证号码): validation and the facts derived from them.

Birth date and gender are read from the number, never typed, so that the age check of E1 (60 or
over) cannot be fooled by a typo in a separate field. `stdnum.cn.ric` checks the checksum, the birth
date and the birth-place code. We check the region code differently from stdnum's `validate`: stdnum
requires the code to have existed *in the birth year*, but the six digits are the place of registration
when the number was first issued (from 1984 on), not of birth. Every 三明 code (350402 梅列区, 350403 old
三元区, 350404 today's 三元区) dates from 1983 or later, so stdnum would refuse every real client born
before 1983. We accept a code that existed at any time, and refuse a code that never did (see
docs/decisions/0010-client-id-numbers.md).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

MINIMUM_AGE = 60  # E1: 60 周岁及以上


class IDNumberError(ValueError):
    """A resident ID number that cannot be accepted; `code` is stable, `message` is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IDNumberFacts:
    number: str
    birth_date: dt.date
    gender: str  # "male" | "female" (17th digit odd = male)
    birth_place: str  # e.g. 福建省三元区


def region_of_code(code: str) -> dict[str, str] | None:
    """Province and county of a 6-digit division code that existed at any time, or None."""
    from stdnum import numdb

    info = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    if "county" not in info:
        return None
    # '[1983-2021]三元区,[2021-]…' → the latest name.
    info["county"] = info["county"].split(",")[-1].split("]")[-1]
    return info


def today_local() -> dt.date:
    return timezone.localdate()


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Completed years (周岁) on `day`."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def parse_id_number(value: str) -> IDNumberFacts:
    """Validate a number and read its facts; raises IDNumberError with a specific, clear message."""
    number = ric.compact(value or "")
    if not number:
        raise IDNumberError("required", _("Enter the resident ID number."))
    try:
        if len(number) != 18:
            raise InvalidLength()
        if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
            raise InvalidFormat()
        if number[-1] != ric.calc_check_digit(number):
            raise InvalidChecksum()
        birth_date = ric.get_birth_date(number)
    except InvalidLength:
        raise IDNumberError(
            "length", _("A resident ID number has 18 characters; this one has %(n)d.") % {"n": len(number)}
        ) from None
    except InvalidFormat:
        raise IDNumberError(
            "format", _("A resident ID number is 17 digits followed by a digit or X.")
        ) from None
    except InvalidChecksum:
        raise IDNumberError(
            "checksum", _("The check digit (last character) does not match: the number has a typo.")
        ) from None
    except InvalidComponent:
        raise IDNumberError(
            "birth_date", _("The birth date in the number (%(d)s) is not a real date.") % {"d": number[6:14]}
        ) from None
    if birth_date > today_local():
        raise IDNumberError("birth_date", _("The birth date in the number lies in the future."))
    place = region_of_code(number[:6])
    if place is None:
        raise IDNumberError(
            "region",
            _("The region code %(code)s in the number is not a known division.") % {"code": number[:6]},
        )
    gender = "male" if int(number[16]) % 2 == 1 else "female"
    return IDNumberFacts(
        number=number,
        birth_date=birth_date,
        gender=gender,
        birth_place=place.get("province", "") + place.get("county", ""),
    )


def validate_client_id_number(value: str, *, on: dt.date | None = None) -> IDNumberFacts:
    """A number acceptable for a client: valid and the holder 60 or over (E1)."""
    facts = parse_id_number(value)
    day = on or today_local()
    age = age_on(facts.birth_date, day)
    if age < MINIMUM_AGE:
        raise IDNumberError(
            "under_age",
            _("The holder is %(age)d years old; the service is for people aged %(min)d or over.")
            % {"age": age, "min": MINIMUM_AGE},
        )
    return facts


_sequence = itertools.count(1)


def make_test_id_number(
    birth_date: dt.date = dt.date(1945, 3, 1),
    *,
    region: str = "350404",
    sequence: int | None = None,
    female: bool = False,
) -> str:
    """A valid, fictitious number for tests and demos: region + birth date + sequence + check digit."""
    seq = next(_sequence) if sequence is None else sequence
    seq3 = seq % 500 * 2 + (0 if female else 1)  # odd = male, even = female
    body = f"{region}{birth_date:%Y%m%d}{seq3:03d}"
    return body + ric.calc_check_digit(body + "0")
