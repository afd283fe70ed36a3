"""Embedded default and scaled mode: the same settings pick SQLite/in-process parts or
PostgreSQL/Redis from DATABASE_URL and REDIS_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from pingantong.testing.services import require_service

PROBE = (
    "import json, pingantong.settings.local as s; db = s.DATABASES['default']; "
    "print(json.dumps({'cache': s.CACHES['default']['BACKEND'], 'huey': s.HUEY['huey_class'], "
    "'layer': s.CHANNEL_LAYERS['default']['BACKEND'], 'engine': db['ENGINE'], "
    "'options': db.get('OPTIONS', {})}))"
)


def _settings_with(tmp_path, **env_overrides: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(PINGANTONG_VAR_DIR=str(tmp_path), **env_overrides)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_default_uses_sqlite_wal_and_in_process_parts(tmp_path):
    s = _settings_with(tmp_path)
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in s["options"]["init_command"]
    assert s["cache"].endswith("FileBasedCache")
    assert s["huey"] == "huey.SqliteHuey"
    assert s["layer"] == "channels.layers.InMemoryChannelLayer"


def test_redis_url_moves_cache_queue_and_live_push_to_redis(tmp_path):
    s = _settings_with(tmp_path, REDIS_URL="redis://127.0.0.1:6379/3")
    assert s["cache"] == "django_redis.cache.RedisCache"
    assert s["huey"] == "huey.PriorityRedisHuey"
    assert s["layer"] == "channels_redis.core.RedisChannelLayer"
    assert s["engine"] == "django.db.backends.sqlite3"  # the database is chosen separately


def test_database_url_switches_to_postgresql(tmp_path):
    s = _settings_with(tmp_path, DATABASE_URL="postgres://u:p@db.example:5432/pingantong")
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["cache"].endswith("FileBasedCache")


@pytest.mark.services
def test_redis_cache_round_trip():
    """Against the local Redis (CI's scaled run sets REDIS_URL and then this is the default cache)."""
    from django.core.cache import caches
    from django_redis.cache import RedisCache

    url = require_service("redis")
    if settings.REDIS_URL:
        target = caches["default"]
        assert isinstance(target, RedisCache)
    else:
        target = RedisCache(url, {"KEY_PREFIX": "pingantong-test"})
    target.set("pingantong:probe", {"ok": 1}, timeout=30)
    assert target.get("pingantong:probe") == {"ok": 1}
    target.delete("pingantong:probe")
    assert target.get("pingantong:probe") is None
