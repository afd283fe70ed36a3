"""The loader: idempotent bulk upserts, parent links from codes, and clear errors that change nothing."""

import json

import pytest
from django.utils import translation

from pingantong.regions.loading import RegionDataError, load_regions, read_region_file, shipped_rows
from pingantong.regions.models import Region, RegionLevel

pytestmark = pytest.mark.django_db

SHAXIAN = "350405000000"  # 沙县区, also in 三明市


def test_loading_another_district_from_the_shipped_data_sets_levels_and_parents():
    result = load_regions(shipped_rows(), under="350405")
    shaxian = Region.objects.get(code=SHAXIAN)
    assert (shaxian.name, shaxian.level, shaxian.parent_id) == ("沙县区", RegionLevel.COUNTY, "350400000000")
    assert result.created == 1 + 15 + 194
    assert result.unchanged == 2  # 福建省 and 三明市 were already there
    assert result.by_level == {1: 1, 2: 1, 3: 1, 4: 15, 5: 194}
    town = Region.objects.get(code="350405101000")
    assert (town.name, town.parent_id, town.level) == ("夏茂镇", SHAXIAN, RegionLevel.TOWN)
    assert not Region.objects.filter(code__startswith="350421").exists()  # 明溪县 was not asked for


def test_loading_twice_changes_nothing(django_assert_max_num_queries):
    load_regions(shipped_rows(), under="350405")
    with django_assert_max_num_queries(8):
        again = load_regions(shipped_rows(), under="350405")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 212)


def test_a_renamed_region_is_updated_in_place():
    Region.objects.filter(code="350404001201").update(name="旧名", short_name="旧名")
    result = load_regions(shipped_rows(), under="350404")
    assert (result.created, result.updated) == (0, 1)
    village = Region.objects.get(code="350404001201")
    assert (village.name, village.short_name) == ("列东村村民委员会", "列东村")


def test_rows_may_be_mappings_or_lists_and_short_codes_are_padded():
    result = load_regions(
        [
            {"code": "350404001", "name": "列东街道"},
            ["350404001990", "测试社区居民委员会", "111"],
        ]
    )
    assert (result.created, result.updated) == (1, 0)
    village = Region.objects.get(code="350404001990")
    assert (village.short_name, village.urban_rural_code, village.parent_id) == (
        "测试社区",
        "111",
        "350404001000",
    )


def test_urban_rural_code_is_kept_when_a_later_load_does_not_give_one():
    load_regions([["350404001990", "测试社区居民委员会", "111"]])
    load_regions([["350404001990", "测试社区居民委员会"]])
    assert Region.objects.get(code="350404001990").urban_rural_code == "111"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["35040400100", "x"]], "row 1, code: '35040400100' is not a division code"),
        ([["35040400100a", "x"]], "row 1, code"),
        ([["003504000000", "x"]], "has no province part"),
        ([["350004001000", "x"]], "zero city part"),
        ([["350404001990", " "]], "row 1, name: the name of 350404001990 is empty"),
        (
            [["350404001990", "甲"], ["350404001990", "乙"]],
            "row 2, code: 350404001990 is a duplicate of row 1",
        ),
        ([["350404001990", "甲", "12"]], "row 1, urban_rural_code: '12' is not a 3-digit code"),
        (
            [["350404888001", "孤村"]],
            "the parent 350404888000 of 350404888001 孤村 is not in the data or database",
        ),
        (["350404001990"], "row 1, code"),
    ],
)
def test_bad_rows_are_named(rows, message):
    with pytest.raises(RegionDataError) as excinfo:
        load_regions(rows)
    assert message in str(excinfo.value)


def test_one_bad_row_means_nothing_is_written():
    before = Region.objects.count()
    with pytest.raises(RegionDataError, match="row 2, code"):
        load_regions([["350404001991", "好社区居民委员会"], ["35040", "x"]])
    with pytest.raises(RegionDataError, match="row 3, code: the parent 350404888000"):
        load_regions([["350404001991", "好社区居民委员会"], ["350404001992", "x"], ["350404888001", "孤村"]])
    assert Region.objects.count() == before


def test_every_bad_row_is_reported_at_once():
    with pytest.raises(RegionDataError) as excinfo:
        load_regions([["1", "a"], ["350404001990", ""], ["350404001990", "b"], ["350404001990", "c"]])
    assert len(excinfo.value.errors) == 3
    assert excinfo.value.errors[0].startswith("row 1, code")
    assert excinfo.value.errors[1].startswith("row 2, name")
    assert excinfo.value.errors[2] == "row 4, code: 350404001990 is a duplicate of row 3"


def test_under_a_code_missing_from_the_data_is_an_error_that_names_the_successor():
    with pytest.raises(RegionDataError, match="梅列区 was merged into 三元区"):
        load_regions(shipped_rows(), under="350402")
    with pytest.raises(RegionDataError, match="350499000000 is not in the data"):
        load_regions(shipped_rows(), under="350499")
    with pytest.raises(RegionDataError, match="not a division code"):
        load_regions(shipped_rows(), under="35049")


def test_a_csv_file_with_bom_and_a_json_list_are_read(tmp_path):
    csv_file = tmp_path / "towns.csv"
    csv_file.write_text(
        "\ufeffcode,name,urban_rural_code\n350404001990,测试社区居民委员会,111\n", encoding="utf-8"
    )
    assert read_region_file(csv_file) == [
        {"code": "350404001990", "name": "测试社区居民委员会", "urban_rural_code": "111"}
    ]
    json_file = tmp_path / "towns.json"
    json_file.write_text(json.dumps([{"code": "350404001990", "name": "测试"}]), encoding="utf-8")
    assert read_region_file(json_file) == [{"code": "350404001990", "name": "测试"}]


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("a.txt", "x", "must end in .json or .csv"),
        ("a.json", "{", "invalid JSON"),
        ("a.json", '{"rows": 3}', "expected a list of rows"),
        ("a.json", '{"columns": ["id", "name"], "rows": []}', "columns must include code and name"),
        ("a.csv", "id,label\n1,2\n", "the header must name the columns code and name"),
    ],
)
def test_unreadable_files_are_clear_errors(tmp_path, filename, content, message):
    path = tmp_path / filename
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RegionDataError, match=message):
        read_region_file(path)


def test_a_missing_or_non_utf8_file_is_a_clear_error(tmp_path):
    with pytest.raises(RegionDataError, match="no such file"):
        read_region_file(tmp_path / "nope.csv")
    path = tmp_path / "gbk.csv"
    path.write_bytes("code,name\n350404001990,测试\n".encode("gbk"))
    with pytest.raises(RegionDataError, match="not UTF-8"):
        read_region_file(path)


def test_errors_are_translated():
    with translation.override("zh-hans"), pytest.raises(RegionDataError) as excinfo:
        load_regions([["350404001990", "甲"], ["350404001990", "乙"]])
    assert str(excinfo.value) == "第 2 行，代码：350404001990 与第 1 行重复"
