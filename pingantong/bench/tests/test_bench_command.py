"""`pingantong bench`: discovery, per-benchmark default scales, and the docs section it rewrites
without touching the prose around it."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection

from pingantong.bench.management.commands.bench import DEFAULT_SCALES, default_scale, discover
from pingantong.bench.report import END, START, render, update_docs, verdict

RESULTS = {
    "started_at": "2026-11-28T22:00:00+00:00",
    "total_seconds": 321.0,
    "machine": {"cpus": 2, "platform": "Linux", "python": "3.11", "database": "sqlite3"},
    "benchmarks": {
        "gateway": {
            "scale": 0.25,
            "figures": [
                {"name": "msgs", "value": 5000.0, "unit": "msg/s", "target": 10000, "ceiling": 8000.0},
                {"name": "SOS p99", "value": 20.0, "unit": "ms", "target": 50.0},
            ],
        },
        "machine": {"scale": 1.0, "figures": [{"name": "commits", "value": 7000.0, "unit": "tx/s"}]},
        "broken": {"scale": 1.0, "error": "ValueError: boom", "figures": []},
    },
}


def test_cross_app_benchmarks_are_discovered_with_the_apps_own():
    found = discover()
    assert {"machine", "sos_to_screen"} <= set(found)
    out = io.StringIO()
    call_command("bench", "--list", stdout=out)
    assert "sos_to_screen" in out.getvalue()


def test_default_scales_keep_full_size_where_cheap_and_reduce_the_heavy_ones():
    assert default_scale("machine", lambda s: {}) == 1.0
    assert default_scale("gateway", lambda s: {}) == DEFAULT_SCALES["gateway"] < 1.0

    def custom(scale: float) -> dict:
        return {}

    custom.default_scale = 0.7  # type: ignore[attr-defined]
    assert default_scale("anything", custom) == 0.7
    assert default_scale("gateway", custom) == DEFAULT_SCALES["gateway"]  # the run's budget table wins


def test_verdict_reads_the_direction_from_the_unit():
    assert verdict({"value": 20.0, "unit": "ms", "target": 50}) == "✓"
    assert verdict({"value": 60.0, "unit": "ms", "target": 50}) == "✗"
    assert verdict({"value": 5000.0, "unit": "msg/s", "target": 10000}) == "✗"
    assert verdict({"value": 12000.0, "unit": "msg/s", "target": 10000}) == "✓"
    assert verdict({"value": 3.0, "unit": "ms"}) == ""


def test_rendered_table_marks_reduced_scale_failures_and_ratios():
    text = render(RESULTS)
    assert "**×0.25 (reduced)**" in text
    assert "| machine | full |" in text
    assert "**failed**: ValueError: boom" in text
    assert "0.50×" in text  # 5,000 of a 10,000 target
    assert "0.62×" in text  # 5,000 of an 8,000 ceiling
    assert "2 cores" in text


def test_docs_update_replaces_only_the_generated_section(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text(
        f"# Benchmarks\n\n## Gateway\nprose by the gateway engineer\n\n{START}\nold\n{END}\n\n## After\nmore\n"
    )
    update_docs(path, RESULTS)
    text = path.read_text()
    assert "prose by the gateway engineer" in text and "## After\nmore" in text
    assert "old" not in text and text.count(START) == 1 and "SOS p99" in text


def test_docs_update_creates_the_file_and_appends_a_section_when_markers_are_missing(tmp_path):
    fresh = tmp_path / "new.md"
    update_docs(fresh, RESULTS)
    assert START in fresh.read_text()
    other = tmp_path / "other.md"
    other.write_text("# Benchmarks\n\nhand-written\n")
    update_docs(other, RESULTS)
    assert other.read_text().startswith("# Benchmarks\n\nhand-written") and END in other.read_text()


def test_a_runs_sqlite_scratch_database_is_removed_afterwards(tmp_path):
    from pingantong.bench.management.commands.bench import Command

    path = tmp_path / "bench-123.sqlite3"
    for suffix in ("", "-wal", "-shm", ".gateway-lock"):  # the lock file of the gateway's writers too
        (tmp_path / f"bench-123.sqlite3{suffix}").write_bytes(b"x")
    command = Command(stdout=io.StringIO())
    command._scratch = ("sqlite", str(path), {})
    command.drop_scratch_database()
    assert not list(tmp_path.iterdir())
    command.drop_scratch_database()  # nothing left to remove: no error


@pytest.mark.django_db
def test_a_run_records_the_hosts_speed_before_and_after_and_the_database_settings(
    tmp_path, settings, monkeypatch
):
    """Runs on a shared host compare only at similar speeds: each run says how fast the host was
    and how the database was set up, in its JSON and in the docs' table."""
    from pingantong.bench import host
    from pingantong.bench.management.commands.bench import Command

    monkeypatch.setattr(host, "HOST_LOOP_ADDITIONS", 100_000)
    settings.VAR_DIR = tmp_path
    out = io.StringIO()

    def bench_tiny(scale: float) -> dict:
        return {"figures": [{"name": "one", "value": 1.0, "unit": "x"}]}

    path = tmp_path / "run.json"
    Command(stdout=out).run_benchmarks(
        {"tiny": bench_tiny}, ["tiny"], {"scale": 1.0, "json_path": str(path), "docs": None}
    )
    results = json.loads(path.read_text())
    loop = results["machine"]["host_loop_s"]
    assert loop["before"] > 0 and loop["after"] > 0
    assert f"ten million additions in {loop['before']} s" in out.getvalue()
    recorded = results["machine"]["database_settings"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for name in ("synchronous_commit", "max_wal_size", "wal_buffers"):
                cursor.execute(f"SHOW {name}")
                assert recorded[name] == cursor.fetchone()[0]
            shown = f"`synchronous_commit` {recorded['synchronous_commit']}"
        else:
            cursor.execute("PRAGMA journal_mode")
            assert recorded["journal_mode"] == cursor.fetchone()[0]
            shown = f"`journal_mode` {recorded['journal_mode']}"
    text = render(results)
    assert f"took {loop['before']} s before the run, {loop['after']} s after" in text
    assert shown in text
    assert "Host speed" not in render(RESULTS), "older runs without the figure render as before"


def _scratch_beside_the_test_database(tmp_path) -> tuple[str, str, dict]:
    """A scratch database of the test database's kind, as `use_scratch_database` makes one."""
    if connection.vendor != "postgresql":
        return ("sqlite", str(tmp_path / "bench-1.sqlite3"), {})
    import psycopg

    db = connection.settings_dict
    conninfo = {
        k: v
        for k, v in {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "dbname": db["NAME"]}.items()
        if v
    }
    name = f"{db['NAME']}_scratch_{id(tmp_path)}"
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return ("postgresql", name, conninfo)


def _sql(scratch: tuple[str, str, dict], statement: str) -> list[tuple]:
    kind, name, conninfo = scratch
    if kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(name)
        try:
            rows = conn.execute(statement).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(**{**conninfo, "dbname": name}, autocommit=True) as pg:
        cursor = pg.execute(statement)
        return cursor.fetchall() if cursor.description else []


@pytest.mark.django_db(transaction=True)
def test_every_benchmark_of_a_run_starts_from_the_freshly_migrated_scratch_database(
    tmp_path, settings, monkeypatch
):
    """Benchmarks of one run used to share their data: the alarm screens' terminals collided with
    the alarm centre's identities, and the console's SOS merged into an alarm an earlier benchmark
    had left open, so neither was measured. Each now starts from the database as migrated."""
    from pingantong.bench import host
    from pingantong.bench.management.commands.bench import Command

    monkeypatch.setattr(host, "HOST_LOOP_ADDITIONS", 100_000)
    settings.VAR_DIR = tmp_path
    scratch = _scratch_beside_the_test_database(tmp_path)
    command = Command(stdout=io.StringIO())
    command._scratch = scratch
    try:
        _sql(scratch, "CREATE TABLE terminal (identity varchar(20) PRIMARY KEY)")
        _sql(scratch, "INSERT INTO terminal VALUES ('migrated')")
        command.keep_pristine_copy()

        def bench_first(scale: float) -> dict:
            _sql(scratch, "INSERT INTO terminal VALUES ('3504100001')")
            return {
                "figures": [{"name": "rows", "value": _sql(scratch, "SELECT count(*) FROM terminal")[0][0]}]
            }

        def bench_second(scale: float) -> dict:
            _sql(scratch, "INSERT INTO terminal VALUES ('3504100001')")  # the same identity again
            return {
                "figures": [{"name": "rows", "value": _sql(scratch, "SELECT count(*) FROM terminal")[0][0]}]
            }

        path = tmp_path / "run.json"
        command.run_benchmarks(
            {"first": bench_first, "second": bench_second},
            ["first", "second"],
            {"scale": 1.0, "json_path": str(path), "docs": None},
        )
        results = json.loads(path.read_text())["benchmarks"]
        assert "error" not in results["second"], results["second"]
        assert results["first"]["figures"][0]["value"] == 2
        assert results["second"]["figures"][0]["value"] == 2
        assert _sql(scratch, "SELECT identity FROM terminal ORDER BY identity") == [
            ("3504100001",),
            ("migrated",),
        ]
    finally:
        command.drop_scratch_database()
    if scratch[0] == "sqlite":
        assert not list(tmp_path.glob("bench-1.sqlite3*")), "the copy is removed with the run's database"
    else:
        import psycopg

        with psycopg.connect(**scratch[2]) as pg:
            left = pg.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{scratch[1]}%"]
            ).fetchall()
        assert left == []
