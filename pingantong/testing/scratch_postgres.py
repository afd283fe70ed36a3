"""A PostgreSQL database of a test's own, with Django run in subprocesses against it.

For tests that must see PostgreSQL-only behaviour (partitions, row-lock order, deadlocks) whatever
database the suite itself runs on: the database is created empty, the Django side runs as
`python -m pingantong.cli …` or a `-c` script with DATABASE_URL pointing at it, and it is dropped
afterwards. Needs the PostgreSQL service (`require_service`: a skip with a reason, or a failure
under PINGANTONG_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .services import require_service

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ScratchPostgres:
    name: str
    admin: dict[str, Any]  # psycopg.connect() keyword arguments, without dbname
    url: str  # DATABASE_URL of the scratch database
    env: dict[str, str]  # environment for the Django subprocesses

    def manage(self, *args: str) -> str:
        """Run a management command against the scratch database; its standard output."""
        return _run([sys.executable, "-m", "pingantong.cli", *args], self.env)

    def script(self, code: str, **values: object) -> dict:
        """Run `code` after django.setup() with `values` bound as globals; the JSON of its last line."""
        prelude = "import django; django.setup()\n" + "".join(f"{k} = {v!r}\n" for k, v in values.items())
        out = _run([sys.executable, "-c", prelude + code], self.env)
        return json.loads(out.strip().splitlines()[-1])


def _run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@contextmanager
def scratch_postgres(name: str, var_dir: Path) -> Iterator[ScratchPostgres]:
    """Create the database `name` (dropping a leftover of a killed run), yield it, drop it."""
    import psycopg

    url = urllib.parse.urlparse(require_service("postgres"))
    admin: dict[str, Any] = {
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
    }
    if url.password:
        admin["password"] = url.password
    auth = f"{admin['user']}{':' + url.password if url.password else ''}@"
    database_url = f"postgres://{auth}{admin['host']}:{admin['port']}/{name}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pingantong.settings.test",
        "PINGANTONG_VAR_DIR": str(var_dir),
        "DATABASE_URL": database_url,
        "PINGANTONG_DEMO": "0",
        "REDIS_URL": "",
        "MQTT_URL": "",
    }
    with psycopg.connect(**admin, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ScratchPostgres(name=name, admin=admin, url=database_url, env=env)
    finally:
        with psycopg.connect(**admin, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
