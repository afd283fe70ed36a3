"""The code arithmetic that region-scoped access is built on."""

import pytest

from pingantong.regions.models import (
    Region,
    RegionLevel,
    ancestor_codes_of,
    level_of,
    parent_code_of,
    prefix_of,
    short_name_of,
)


@pytest.mark.parametrize(
    ("code", "level", "prefix"),
    [
        ("350000000000", RegionLevel.PROVINCE, "35"),
        ("350400000000", RegionLevel.CITY, "3504"),
        ("350404000000", RegionLevel.COUNTY, "350404"),
        ("350404004000", RegionLevel.TOWN, "350404004"),
        ("350404004001", RegionLevel.VILLAGE, "350404004001"),
        # 东莞市 has no counties: its towns sit directly under the city.
        ("441900003000", RegionLevel.TOWN, "441900003"),
    ],
)
def test_level_and_prefix_are_read_from_the_trailing_zero_groups(code, level, prefix):
    assert level_of(code) == level
    assert prefix_of(code) == prefix
    assert Region(code=code).prefix == prefix


@pytest.mark.parametrize("bad", ["", "3504", "35040400100", "3504040010011", "35040400100a", None])
def test_level_of_rejects_anything_but_twelve_digits(bad):
    with pytest.raises((ValueError, TypeError)):
        level_of(bad)


def test_parent_code_is_the_next_level_up_and_a_city_for_a_countyless_town():
    assert parent_code_of("350000000000") is None
    assert parent_code_of("350400000000") == "350000000000"
    assert parent_code_of("350404000000") == "350400000000"
    assert parent_code_of("350404102000") == "350404000000"
    assert parent_code_of("350404102214") == "350404102000"
    assert parent_code_of("441900003000") == "441900000000"


def test_ancestor_codes_run_from_the_province_down():
    assert ancestor_codes_of("350404102214") == [
        "350000000000",
        "350400000000",
        "350404000000",
        "350404102000",
    ]
    assert ancestor_codes_of("350000000000") == []


def test_descendants_share_the_prefix_and_siblings_do_not():
    sanyuan = Region(code="350404000000")
    assert sanyuan.contains("350404200218")
    assert not sanyuan.contains("350405100201")  # 沙县区
    liedong = Region(code="350404001000")
    assert liedong.contains("350404001201")
    assert not liedong.contains("350404002201")


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("列东村村民委员会", "列东村"),
        ("江滨社区居民委员会", "江滨社区"),
        ("红印山社区居委会", "红印山社区"),
        ("城东村委会", "城东村"),
        ("白水畲族村委会", "白水畲族村"),
        ("杉口居委会", "杉口社区"),
        ("漓东街道办事处", "漓东街道"),
        ("列东街道", "列东街道"),
        ("三元经济开发区虚拟社区", "三元经济开发区虚拟社区"),
        ("村委会", "村委会"),
    ],
)
def test_short_name_drops_the_committee_title(name, short):
    assert short_name_of(name) == short
