"""ID number validation (issue 3): checksum, birth date, region, 60+ derived from the number (E1)."""

import datetime as dt

import pytest
from stdnum.cn import ric

from pingantong.clients.idnumber import (
    IDNumberError,
    make_test_id_number,
    parse_id_number,
    validate_client_id_number,
)

ON = dt.date(2026, 11, 28)


def _with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def test_valid_number_gives_birth_date_gender_and_place():
    facts = validate_client_id_number(_with_check("35040419450301002"), on=ON)
    assert facts.birth_date == dt.date(1945, 3, 1)
    assert facts.gender == "female"  # 17th digit 2 is even
    assert facts.birth_place == "福建省三元区"


def test_elderly_number_with_a_code_younger_than_the_holder_is_accepted():
    # stdnum's own validate() refuses 350403 for someone born in 1945 (code dates from 1983).
    number = _with_check("35040319450301001")
    assert not ric.is_valid(number)
    assert validate_client_id_number(number, on=ON).birth_place == "福建省三元区"


def test_bad_checksum_is_refused_as_a_typo():
    good = _with_check("35040419450301001")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(IDNumberError) as exc:
        parse_id_number(bad)
    assert exc.value.code == "checksum"
    assert "check digit" in exc.value.message


def test_under_60_is_refused_with_the_age():
    with pytest.raises(IDNumberError) as exc:
        validate_client_id_number(_with_check("35040419700101001"), on=ON)
    assert exc.value.code == "under_age"
    assert "56" in exc.value.message


def test_turning_60_today_is_accepted():
    number = _with_check("35040419661128001")
    assert validate_client_id_number(number, on=ON).birth_date == dt.date(1966, 11, 28)
    with pytest.raises(IDNumberError):
        validate_client_id_number(number, on=ON - dt.timedelta(days=1))


def test_unknown_region_is_refused_with_the_code():
    with pytest.raises(IDNumberError) as exc:
        parse_id_number(_with_check("99010119450301001"))
    assert exc.value.code == "region"
    assert "990101" in exc.value.message


def test_impossible_birth_date_and_wrong_length_are_refused():
    with pytest.raises(IDNumberError) as exc:
        parse_id_number(_with_check("35040419450231001"))
    assert exc.value.code == "birth_date"
    with pytest.raises(IDNumberError) as exc:
        parse_id_number("3504041945")
    assert exc.value.code == "length"


def test_test_numbers_are_valid_and_distinct():
    numbers = {make_test_id_number(sequence=n) for n in range(50)}
    assert len(numbers) == 50
    assert all(parse_id_number(n) for n in numbers)
