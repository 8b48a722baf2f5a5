"""Settings shared by every environment; environment files override a few names."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from retailai.core.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "retailai.core",
    "retailai.commerce",
    "inventory",
    "forecasting",
    "recommendations",
    "pricing",
    "retailai.demo",
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
]

ROOT_URLCONF = "retailai.urls"
WSGI_APPLICATION = "retailai.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "retailai.core.context_processors.navigation",
            ],
        },
    }
]

# --- Database: PostgreSQL when DATABASE_URL is set, SQLite (embedded default) otherwise.
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "var" / "retailai.sqlite3")),
            "OPTIONS": {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker and cache when REDIS_URL is set; tasks run in process otherwise.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One unambiguous date style per language ("3 Dec 2026 07:12", "2026年12月3日 07:12"), not Django's "12/03/2026".
FORMAT_MODULE_PATH = ["retailai.formats"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- The retailer: country drives the holiday calendar of the forecasting engine.
RETAILAI_COUNTRY = env_str("RETAILAI_COUNTRY", "GB")
RETAILAI_CURRENCY = env_str("RETAILAI_CURRENCY", "GBP")

# --- REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/min"),
        "user": env_str("API_THROTTLE_USER", "2000/min"),
    },
    "EXCEPTION_HANDLER": "retailai.core.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "RetailAI API",
    "DESCRIPTION": "Products, customers, orders and stock for RetailAI partners and back-office tools.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc assets ship with drf-spectacular-sidecar: the docs work without internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The schema and docs are for signed-in users (partners with a token, or a back-office session).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# --- Celery: one place for queues, limits and the beat schedule.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 4 * 3600)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 4 * 3600 - 300)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "*.train_*": {"queue": "training"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "nightly-forecast": {
        "task": "forecasting.tasks.forecast_nightly_task",
        "schedule": crontab(hour=1, minute=30),
    },
    # After the nightly forecast has had time to finish; a failed forecast leaves the previous run active.
    "nightly-replenishment": {
        "task": "inventory.tasks.replenishment_nightly_task",
        "schedule": crontab(hour=5, minute=0),
    },
    # After the nightly import of orders; a failed run leaves the previous lists serving.
    "nightly-recommendations": {
        "task": "recommendations.tasks.recommendation_nightly_task",
        "schedule": crontab(hour=2, minute=30),
    },
    "purge-old-job-runs": {
        "task": "retailai.core.tasks.job_runs_purge_task",
        "schedule": crontab(hour=3, minute=15),
        "kwargs": {"keep_days": 90},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Forecasting
FORECAST_CHUNK_SIZE = env_int("FORECAST_CHUNK_SIZE", 500)
FORECAST_NEURAL = env_bool("FORECAST_NEURAL", False)
# Candidates backtested per series; ETS and SARIMAX fit one series at a time and cost the most CPU.
FORECAST_MODELS = env_list("FORECAST_MODELS", ["seasonal_naive", "moving_average", "ets", "sarimax", "tsb", "gbm"])
# The net unit price of the order lines as a covariate. Off by default: where prices follow order size (tiered
# wholesale prices) it makes the forecasts low; promotions carry planned price cuts either way.
FORECAST_PRICE_COVARIATE = env_bool("FORECAST_PRICE_COVARIATE", False)
# Days without stock are left out of the demand history; the stock ledger's reader (the inventory app's, which
# depends on forecasting, so it is named here rather than imported). Empty: every day counts as observed.
FORECAST_STOCKOUT_DAYS = env_str("FORECAST_STOCKOUT_DAYS", "inventory.selectors.stockout_days_frame")
# A run started without a horizon (the nightly one, "Run forecast now") forecasts as far as the longest cover a
# suggested purchase order needs: lead time, its allowance for late deliveries and the review period. The inventory
# app's reader of its supplier terms, named here for the same reason. Empty: 28 days or 12 weeks.
FORECAST_MIN_HORIZON_DAYS = env_str("FORECAST_MIN_HORIZON_DAYS", "inventory.selectors.planning_horizon_days")
# The furthest such a run reaches, however long a lead time: each of its three backtests holds out a horizon of
# history, so half a year already needs a year and a half of it, and every day forecast costs time in every chunk.
FORECAST_MAX_HORIZON_DAYS = env_int("FORECAST_MAX_HORIZON_DAYS", 182)

# --- Purchase orders and replenishment
PO_REVIEW_PERIOD_DAYS = env_int("PO_REVIEW_PERIOD_DAYS", 7)
# Extra lead time per standard deviation of the supplier's lead time.
PO_LEAD_TIME_STD_FACTOR = 1.0
# Once a supplier has delivered this many times in the last PO_LEAD_TIME_HISTORY_DAYS (orders sent, then
# received), suggestions plan with the lead time it kept (its mean lateness and the deviation of it) instead of
# the deviation in its supply terms.
PO_LEAD_TIME_MIN_DELIVERIES = env_int("PO_LEAD_TIME_MIN_DELIVERIES", 5)
PO_LEAD_TIME_HISTORY_DAYS = env_int("PO_LEAD_TIME_HISTORY_DAYS", 365)
# Suggestions hold each forecast under the product's largest period of demand over this many weeks of history
# (0 = off), plus a headroom share for the upper quantiles; products with under a quarter of it keep theirs.
PO_HISTORY_CAP_WEEKS = env_int("PO_HISTORY_CAP_WEEKS", 52)
PO_HISTORY_CAP_HEADROOM = 0.25
# Suggestions plan each target at the fill a replay of the forecast run's last backtest window showed reaches it
# (inventory.calibration); the replay samples at most this many products per location.
PO_CALIBRATION = env_bool("PO_CALIBRATION", True)
PO_CALIBRATION_MAX_SERIES = env_int("PO_CALIBRATION_MAX_SERIES", 500)
# Fill-rate targets by ABC/XYZ class; None uses inventory.engine.policy.DEFAULT_SERVICE_LEVELS.
PO_SERVICE_LEVELS: dict[str, float] | None = None
PO_SECOND_APPROVAL_VALUE = env_int("PO_SECOND_APPROVAL_VALUE", 5000)
# Value cap on all suggested orders of one location per suggestion run (0 = no cap); the least urgent lines
# are trimmed first.
PO_BUDGET_PER_RUN = env_int("PO_BUDGET_PER_RUN", 0)
# Suggestions up to this value whose forecasts are tight (P10–P90 spread / median ≤ the ratio) approve themselves.
PO_AUTO_APPROVE_VALUE = env_int("PO_AUTO_APPROVE_VALUE", 0)
PO_AUTO_APPROVE_MAX_SPREAD = 0.6
# A buyer changing a suggested quantity by more than this share must give a reason.
PO_OVERRIDE_REASON_THRESHOLD = 0.5
# Deliveries may exceed the ordered quantity by this share (rounded up) before receiving refuses them.
PO_OVER_RECEIPT_TOLERANCE = 0.1

# --- Recommendations
RECOMMENDATIONS_TOP_N = env_int("RECOMMENDATIONS_TOP_N", 20)
# Neighbours stored per product, for "similar" and for "bought together".
RECOMMENDATIONS_SIMILAR_N = env_int("RECOMMENDATIONS_SIMILAR_N", 10)
# Offline metrics: a second fit on everything before the last holdout window, scored on that window.
RECOMMENDATIONS_EVALUATE = env_bool("RECOMMENDATIONS_EVALUATE", True)
RECOMMENDATIONS_HOLDOUT_DAYS = 30
RECOMMENDATIONS_EVAL_MIN_USERS = 5
# Runs whose stored lists are kept (the active one always is); older runs keep only their metrics.
RECOMMENDATIONS_KEEP_RUNS = 3
