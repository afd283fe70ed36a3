"""`pingantong bench [NAME ...]`: the project's benchmarks, one command.

Each app contributes functions `bench_<name>(scale: float) -> dict` in `pingantong/<app>/bench.py`.
A result dict holds `figures`: a list of {"name", "value", "unit", "target"?, "ceiling"?} where
`ceiling` is the same figure for the bare baseline measured in the same run (asyncio echo, raw
inserts). The table is printed and the JSON written to var/bench/<timestamp>.json (and --json PATH);
`--docs` also rewrites the generated results section of docs/benchmarks.md.

Scale: 1.0 is the targets' full size (100,000 clients, 10,000 connections ...). Without `--scale`
each benchmark runs at its default scale (`DEFAULT_SCALES`, else a `default_scale` attribute the
benchmark function carries), chosen so that the whole run stays under 10 minutes on a 2-core
machine; a figure measured below full scale is marked so in the table and the docs.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import platform
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


def project_apps() -> list[str]:
    """Every project app (pingantong.<app> in INSTALLED_APPS): a new app's bench.py is found too."""
    return [a.split(".", 1)[1] for a in settings.INSTALLED_APPS if a.startswith("pingantong.")]


# Default scale per benchmark (when --scale is not given): the whole run < 10 min on 2 cores.
DEFAULT_SCALES: dict[str, float] = {
    "machine": 1.0,
    "storage": 1.0,
    "telemetry_growth": 0.2,
    "gateway": 0.2,
    "sos_to_screen": 1.0,
    "client_search": 0.3,
    "daily_sweep": 0.1,
    "settlement": 0.1,
    "broadcast": 0.5,
    "alarm_screens": 0.1,
    "device_supervision": 0.05,
    "sos_to_websocket": 1.0,
}
FALLBACK_SCALE = 0.2  # a benchmark not listed above and without its own `default_scale`


def default_scale(name: str, func: object) -> float:
    """This table first (it holds the whole run's 10-minute budget), then the function's own
    `default_scale`, then the fallback."""
    if name in DEFAULT_SCALES:
        return DEFAULT_SCALES[name]
    return float(getattr(func, "default_scale", FALLBACK_SCALE))


def discover() -> dict[str, object]:
    found: dict[str, object] = {}
    for app in project_apps():
        try:
            module = importlib.import_module(f"pingantong.{app}.bench")
        except ModuleNotFoundError as exc:
            if exc.name == f"pingantong.{app}.bench":
                continue
            raise
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("bench_") and func.__module__ == module.__name__:
                found[name.removeprefix("bench_")] = func
    return found


class Command(BaseCommand):
    help = "Run the benchmarks (all, or the ones named) and record the results."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="benchmarks to run (default: all); `--list` shows them")
        parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
        parser.add_argument(
            "--scale",
            type=float,
            default=None,
            help="1.0 = the targets' full size (default: each benchmark's own default scale)",
        )
        parser.add_argument(
            "--docs",
            nargs="?",
            const="docs/benchmarks.md",
            default="",
            help="also rewrite the generated results section of this file (docs/benchmarks.md)",
        )
        parser.add_argument("--json", dest="json_path", default="", help="also write the results here")
        parser.add_argument(
            "--keep-scratch", action="store_true", help="keep the scratch database after the run"
        )
        parser.add_argument(
            "--in-place",
            action="store_true",
            help="run against the configured database instead of a scratch one (never on production data)",
        )

    def handle(self, *args, **opts):
        benches = discover()
        if opts["list"]:
            for name, func in sorted(benches.items()):
                doc = (inspect.getdoc(func) or "").splitlines()
                self.stdout.write(f"{name:24} {doc[0] if doc else ''}")
            return
        names = opts["names"] or sorted(benches)
        if unknown := [n for n in names if n not in benches]:
            raise CommandError(
                f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(sorted(benches))}"
            )
        if opts["scale"] is not None and opts["scale"] <= 0:
            raise CommandError("--scale must be positive")
        if settings.DEBUG:
            # Benchmarks measure a deployment (production settings have DEBUG off). Under DEBUG
            # Django wraps every cursor to log each query with its quoted parameters, which cost
            # the gateway and the rules stage 5-10 % of their CPU; child processes the benchmarks
            # start inherit it through `settings.DEBUG` (pingantong.gateway.ingest.consumer).
            settings.DEBUG = False
            self.stdout.write("DEBUG is off for the benchmarks (they measure a deployment)")
        if not opts["in_place"]:
            self.use_scratch_database()
        try:
            self.run_benchmarks(benches, names, opts)
        finally:
            if not opts["keep_scratch"]:
                self.drop_scratch_database()

    def run_benchmarks(self, benches: dict[str, object], names: list[str], opts: dict) -> None:
        from pingantong.bench.host import database_settings, host_loop_seconds

        loop_before = host_loop_seconds()
        results: dict = {
            "started_at": timezone.now().isoformat(),
            "machine": {
                "platform": platform.platform(),
                "python": platform.python_version(),
                "cpus": _cpu_count(),
                "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                "database_settings": database_settings(),
                "host_loop_s": {"before": loop_before},
            },
            "scale": opts["scale"],
            "benchmarks": {},
        }
        self.stdout.write(f"host speed: a Python loop of ten million additions in {loop_before} s")
        run_started = time.perf_counter()
        for number, name in enumerate(names):
            scale = opts["scale"] if opts["scale"] is not None else default_scale(name, benches[name])
            note = "" if scale >= 1.0 else f" (reduced scale ×{scale:g})"
            self.stdout.write(self.style.MIGRATE_HEADING(f"== {name}{note}"))
            if number and self._scratch is not None:
                self.restore_pristine_copy()  # each benchmark on the freshly migrated database
            started = time.perf_counter()
            try:
                outcome = benches[name](scale)  # type: ignore[operator]
            except Exception as exc:
                outcome = {"error": f"{type(exc).__name__}: {exc}", "figures": []}
                self.stderr.write(f"{name} failed: {outcome['error']}")
            outcome["seconds"] = round(time.perf_counter() - started, 2)
            outcome["scale"] = scale
            results["benchmarks"][name] = outcome
            self.print_table(outcome)
        results["total_seconds"] = round(time.perf_counter() - run_started, 1)
        results["machine"]["host_loop_s"]["after"] = host_loop_seconds()
        self.stdout.write(f"host speed afterwards: {results['machine']['host_loop_s']['after']} s")
        out_dir = settings.VAR_DIR / "bench"
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{timezone.now():%Y%m%dT%H%M%S}.json"
        text = json.dumps(results, ensure_ascii=False, indent=2, default=str)
        path.write_text(text)
        if opts["json_path"]:
            Path(opts["json_path"]).write_text(text)
        self.stdout.write(f"results: {path} (total {results['total_seconds']} s)")
        if opts["docs"]:
            from pingantong.bench.report import update_docs

            docs = Path(opts["docs"])
            if not docs.is_absolute():
                docs = settings.PROJECT_DIR / docs
            update_docs(docs, results)
            self.stdout.write(f"updated {docs}")

    _scratch: tuple[str, str, dict] | None = None

    def drop_scratch_database(self) -> None:
        """Scratch databases are per run (per process id): remove this run's when it is done, and
        the migrated copy each benchmark starts from."""
        from django.db import connections

        if self._scratch is None:
            return
        kind, name, conninfo = self._scratch
        connections["default"].close()
        if kind == "sqlite":
            _remove_sqlite_files(name)
            _remove_sqlite_files(_pristine_name(kind, name))
        else:
            import psycopg

            with psycopg.connect(**conninfo, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'DROP DATABASE IF EXISTS "{_pristine_name(kind, name)}"')
        self.stdout.write(f"scratch database removed: {name}")
        self._scratch = None

    def keep_pristine_copy(self) -> None:
        """Keep the freshly migrated scratch database aside, so that every benchmark of the run
        starts from it: a benchmark's clients, terminals and open alarms would otherwise meet the
        next one's (the same identities, an SOS merged into an alarm already open)."""
        from django.db import connections

        assert self._scratch is not None
        kind, name, conninfo = self._scratch
        connections["default"].close()
        if kind == "sqlite":
            import sqlite3

            _remove_sqlite_files(_pristine_name(kind, name))
            source = sqlite3.connect(name)
            try:
                source.execute("VACUUM INTO ?", (_pristine_name(kind, name),))
            finally:
                source.close()
        else:
            import psycopg

            with psycopg.connect(**conninfo, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{_pristine_name(kind, name)}"')
                conn.execute(f'CREATE DATABASE "{_pristine_name(kind, name)}" TEMPLATE "{name}"')

    def restore_pristine_copy(self) -> None:
        """Put the scratch database back as it was after its migrations (`keep_pristine_copy`)."""
        import shutil

        from django.db import connections

        assert self._scratch is not None
        kind, name, conninfo = self._scratch
        connections["default"].close()
        if kind == "sqlite":
            _remove_sqlite_files(name)
            shutil.copyfile(_pristine_name(kind, name), name)
        else:
            import psycopg

            with psycopg.connect(**conninfo, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_pristine_name(kind, name)}"')

    def use_scratch_database(self) -> None:
        """Benchmarks generate 100,000 clients and millions of events: never in the real database.

        SQLite: a fresh file under var/bench/. PostgreSQL: a database named `<name>_bench` on the same
        server, recreated for each run.
        """
        from django.core.management import call_command
        from django.db import connections

        db = connections.databases["default"]
        connections["default"].close()
        if db["ENGINE"].endswith("sqlite3"):
            # One file per run: two benchmark runs at once must not share (and wipe) a database.
            path = settings.VAR_DIR / "bench" / f"bench-{os.getpid()}.sqlite3"
            path.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            db["NAME"] = str(path)
            self._scratch = ("sqlite", str(path), {})
        else:
            import psycopg

            name = f"{db['NAME']}_bench_{os.getpid()}"
            conninfo = {
                k: v
                for k, v in {
                    "host": db.get("HOST"),
                    "port": db.get("PORT"),
                    "user": db.get("USER"),
                    "password": db.get("PASSWORD"),
                    "dbname": db["NAME"],
                }.items()
                if v
            }
            with psycopg.connect(**conninfo, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
            db["NAME"] = name
            self._scratch = ("postgresql", name, conninfo)
        self.stdout.write(f"scratch database: {db['NAME']}")
        call_command("migrate", interactive=False, verbosity=0)
        self.keep_pristine_copy()

    def print_table(self, outcome: dict) -> None:
        figures = outcome.get("figures", [])
        if not figures:
            return
        self.stdout.write(f"  {'figure':44} {'value':>12} {'unit':8} {'target':>12} {'ceiling':>12}")
        for fig in figures:
            self.stdout.write(
                f"  {fig['name'][:44]:44} {_fmt(fig.get('value')):>12} {fig.get('unit', ''):8} "
                f"{_fmt(fig.get('target')):>12} {_fmt(fig.get('ceiling')):>12}"
            )


def _pristine_name(kind: str, name: str) -> str:
    """Where a scratch database's freshly migrated copy is kept: a file beside it (SQLite), a
    database beside it (PostgreSQL)."""
    return f"{name}.pristine" if kind == "sqlite" else f"{name}_pristine"


def _remove_sqlite_files(name: str) -> None:
    """A SQLite database file and everything beside it: its log, shared memory, the gateway's
    writers' lock and the urgent journals (decision 0130)."""
    for suffix in ("", "-wal", "-shm", ".gateway-lock"):
        Path(f"{name}{suffix}").unlink(missing_ok=True)
    for journal in Path(name).parent.glob(f"{Path(name).name}.urgent-*"):
        journal.unlink(missing_ok=True)


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
