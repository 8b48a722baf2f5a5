"""Settings of the API latency benchmark: production-like (DEBUG off) on a scratch database, plus a no-op route.

Never used by the product; bench/recommend_api.py points DJANGO_SETTINGS_MODULE here."""

import tempfile
from pathlib import Path

from retailai.settings.local import *  # noqa: F403
from retailai.settings.local import REST_FRAMEWORK

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
STATIC_ROOT = Path(tempfile.gettempdir()) / "retailai-bench-static"
STATIC_ROOT.mkdir(exist_ok=True)
ROOT_URLCONF = "bench.api.urls"
# The load test sends thousands of requests a second from one partner; the throttle classes still run on
# both endpoints (same cost), only their limits are raised so no request is refused.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "100000000/min", "user": "100000000/min"}}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING", "handlers": []}}
