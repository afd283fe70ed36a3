"""Settings shared by every deployment.

Everything that differs between the embedded default and the scaled mode is read from the
environment here (DATABASE_URL, REDIS_URL, MQTT_URL and the PINGANTONG_* ports), so that the same
code runs in both: see docs/architecture.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent  # the `pingantong` package
PROJECT_DIR = BASE_DIR.parent  # the repository root
VAR_DIR = Path(os.environ.get("PINGANTONG_VAR_DIR", PROJECT_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS: list[str] = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "auditlog",
    "axes",
    "django_htmx",
    "import_export",
    "channels",
    "huey.contrib.djhuey",
    # project apps; each owns its models, actions, selectors, views, api and tests
    "pingantong.core",
    "pingantong.regions",
    "pingantong.accounts",
    "pingantong.clients",
    "pingantong.devices",
    "pingantong.inventory",
    "pingantong.gateway",
    "pingantong.notifications",
    "pingantong.alarms",
    "pingantong.care",
    "pingantong.reports",
    "pingantong.sync",
    "pingantong.demo",
    "pingantong.bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pingantong.urls"
ASGI_APPLICATION = "pingantong.asgi.application"
WSGI_APPLICATION = "pingantong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "pingantong.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database: SQLite (WAL, immediate transactions) embedded, PostgreSQL when DATABASE_URL says so.
SQLITE_PATH = VAR_DIR / "pingantong.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()


def database_from_url(url: str) -> dict:
    if not url:
        url = f"sqlite:///{SQLITE_PATH}"
    config: dict = dict(dj_database_url.parse(url, conn_max_age=0 if url.startswith("sqlite") else 60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue on busy_timeout instead
            # of failing with "database is locked" when a read transaction upgrades (ticket 29280).
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
                "PRAGMA foreign_keys=ON;PRAGMA cache_size=-65536;PRAGMA temp_store=MEMORY;"
            ),
        }
    else:
        config.setdefault("OPTIONS", {})
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": database_from_url(DATABASE_URL)}
USES_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, task queue and live-push layer move to Redis when REDIS_URL is set.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pingantong",
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "pingantong"},
        }
    }
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": "pingantong",
        "url": REDIS_URL,
        "immediate": False,
        "consumer": {"workers": 4, "worker_type": "thread"},
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    # Embedded mode: the web server and the gateway share one process (see `pingantong run`),
    # so an in-process layer carries live pushes; the worker reaches consoles through the
    # database-backed relay in pingantong.core.live.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "pingantong",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": False,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

# --- Accounts and security
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lock an account after 5 failures for 30 minutes (per username and IP).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# An idle session ends after 2 hours; the alarm console keeps itself alive while it is open.
SESSION_COOKIE_AGE = env_int("PINGANTONG_SESSION_SECONDS", 2 * 3600)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Internationalisation: Chinese first, English switchable.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"  # shown; stored values are aware UTC
USE_I18N = True
USE_TZ = True

# --- Static files: front-end assets come from the npm registry at install time (scripts/assets.sh)
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise expects it even when serving from the finders
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = True

# --- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["pingantong.core.drf.RolePermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "pingantong.core.drf.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": "6000/minute", "anon": "120/minute"},
    "EXCEPTION_HANDLER": "pingantong.core.drf.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "平安通 API",
    "DESCRIPTION": "Operations platform for telecare services for elderly people.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from npm (scripts/assets.sh), served by the project: no CDN at run time.
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": "/static/vendor/swagger-ui/favicon-32x32.png",
    # One stable, meaningful component name per choice set. Without these, fields that share a name
    # across apps (`status`, `kind`, `source` …) get hash-suffixed names (`Status4dbEnum`) that change
    # whenever an app adds a choice, and `check --deploy` warns (drf_spectacular.W001). A new choice
    # set on a field named like an existing one needs an entry here: core/tests/test_api_schema.py
    # fails on any schema warning.
    "ENUM_NAME_OVERRIDES": {
        # accounts
        "RoleEnum": "pingantong.accounts.choices.Role",
        # alarms
        "AlarmTypeEnum": "pingantong.alarms.choices.AlarmType",
        "AlarmStatusEnum": "pingantong.alarms.choices.AlarmStatus",
        "AlarmOutcomeEnum": "pingantong.alarms.choices.Outcome",
        "AlarmStepKindEnum": "pingantong.alarms.choices.StepKind",
        # care
        "TaskKindEnum": "pingantong.care.choices.TaskKind",
        "TaskStatusEnum": "pingantong.care.choices.TaskStatus",
        "TaskSourceEnum": "pingantong.care.choices.TaskSource",
        "TaskOutcomeEnum": "pingantong.care.choices.TaskOutcome",
        "TaskEventKindEnum": "pingantong.care.choices.TaskEventKind",
        "LifeSignSourceEnum": "pingantong.care.choices.LifeSignSource",
        "CareCallModeEnum": "pingantong.care.choices.CallMode",
        "CareCallResultEnum": "pingantong.care.choices.CallResult",
        "VisitStatusEnum": "pingantong.care.choices.VisitStatus",
        "ReferralKindEnum": "pingantong.care.choices.ReferralKind",
        "ReferralStatusEnum": "pingantong.care.choices.ReferralStatus",
        "CounsellingModeEnum": "pingantong.care.choices.CounsellingMode",
        "PartnerKindEnum": "pingantong.care.choices.PartnerKind",
        "ActivityKindEnum": "pingantong.care.choices.ActivityKind",
        # clients
        "ClientStatusEnum": "pingantong.clients.choices.ClientStatus",
        "PayingSchemeEnum": "pingantong.clients.choices.PayingScheme",
        "ConsentPurposeEnum": "pingantong.clients.choices.ConsentPurpose",
        "ConsentMethodEnum": "pingantong.clients.choices.ConsentMethod",
        "FrequencyChangeKindEnum": "pingantong.clients.choices.FrequencyKind",
        "FrequencyChangeStatusEnum": "pingantong.clients.choices.FrequencyRequestStatus",
        "ApplicationStatusEnum": "pingantong.clients.choices.ApplicationStatus",
        "ApplicationActionEnum": "pingantong.clients.choices.ApplicationAction",
        "AgreementStatusEnum": "pingantong.clients.choices.AgreementStatus",
        # devices
        "DeviceStatusEnum": "pingantong.devices.models.registry.DeviceStatus",
        "CommandKindEnum": "pingantong.devices.models.commands.CommandKind",
        "CommandStatusEnum": "pingantong.devices.models.commands.CommandStatus",
        # inventory
        "StockStateEnum": "pingantong.inventory.choices.StockState",
        "StockActionEnum": "pingantong.inventory.choices.StockAction",
        "ChargeKindEnum": "pingantong.inventory.choices.ChargeKind",
        "InstallationStatusEnum": "pingantong.inventory.choices.InstallationStatus",
        "DeviceCheckResultEnum": "pingantong.inventory.choices.CheckResult",
        # notifications
        "MessageStatusEnum": "pingantong.notifications.choices.MessageStatus",
        "MessagePurposeEnum": "pingantong.notifications.choices.Purpose",
        "BroadcastKindEnum": "pingantong.notifications.choices.BroadcastKind",
        "BroadcastStatusEnum": "pingantong.notifications.choices.BroadcastStatus",
        "BroadcastSourceEnum": "pingantong.notifications.choices.BroadcastSource",
        # reports, sync
        "SettlementStatusEnum": "pingantong.reports.models.SettlementStatus",
        "SettlementLineKindEnum": "pingantong.reports.models.LineKind",
        "OutboxStatusEnum": "pingantong.sync.models.OutboxStatus",
    },
}

# --- Audit (X2, I1): records are kept at least a year; see pingantong.core.audit.
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False
PINGANTONG_AUDIT_RETENTION_DAYS = max(365, env_int("PINGANTONG_AUDIT_RETENTION_DAYS", 400))

# --- Field encryption for ID numbers and other secrets at rest (see pingantong.core.crypto)
PINGANTONG_FIELD_KEY = os.environ.get("PINGANTONG_FIELD_KEY", "")

# --- Public contracts: ports and switches (ARCHITECTURE.md)
PINGANTONG_HTTP_PORT = env_int("PINGANTONG_HTTP_PORT", 8000)
PINGANTONG_WATCH_PORT = env_int("PINGANTONG_WATCH_PORT", 5093)
PINGANTONG_JT808_PORT = env_int("PINGANTONG_JT808_PORT", 5015)
PINGANTONG_MQTT_PORT = env_int("PINGANTONG_MQTT_PORT", 1883)
MQTT_URL = os.environ.get("MQTT_URL", "").strip()
PINGANTONG_DEMO = env_bool("PINGANTONG_DEMO", True)
PINGANTONG_DEVICE_TZ = os.environ.get("PINGANTONG_DEVICE_TZ", "+08:00")
# A stable name per gateway process in scaled mode (MQTT persistent sessions, downlink ownership).
PINGANTONG_GATEWAY_NODE = os.environ.get("PINGANTONG_GATEWAY_NODE", "")
# MQTT shared-subscription group of the gateways on one external broker ("" = plain; decision 0100).
PINGANTONG_MQTT_SHARE_GROUP = os.environ.get("PINGANTONG_MQTT_SHARE_GROUP", "pingantong").strip()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PINGANTONG_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
