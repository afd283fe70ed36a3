"""Test settings: fast hashing, in-memory layers, immediate tasks; the database still comes from
DATABASE_URL so that CI runs the same suite on SQLite and on PostgreSQL."""

import os

from .base import *  # noqa: F403
from .base import REDIS_URL, VAR_DIR

SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
PINGANTONG_FIELD_KEY = "test-field-key"
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
HUEY = {"huey_class": "huey.MemoryHuey", "name": "pingantong-test", "immediate": True}
AXES_ENABLED = True
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}  # noqa: F405
PINGANTONG_DEMO = False
PINGANTONG_REQUIRE_SERVICES = os.environ.get("PINGANTONG_REQUIRE_SERVICES", "") == "1"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# A file, not SQLite's in-memory database: the gateway's writer thread, live servers and the test
# share it under WAL with a busy timeout, instead of failing at once on cross-thread lock contention.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
