"""Reachability of the database, the broker and the workers."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection


def _timed(check) -> dict:
    start = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as exc:  # a health check reports every failure instead of raising
        detail, ok = f"{type(exc).__name__}: {exc}", False
    return {"ok": ok, "detail": detail, "ms": round((time.perf_counter() - start) * 1000, 1)}


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _broker() -> str:
    if not settings.REDIS_URL:
        return "in-process (no broker configured)"
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    client.ping()
    return "redis"


def _workers() -> str:
    if not settings.REDIS_URL:
        return "in-process (tasks run eagerly)"
    from retailai.celery import app

    replies = app.control.ping(timeout=1.0) or []
    if not replies:
        raise RuntimeError("no Celery worker answered within 1 s")
    return f"{len(replies)} worker(s): " + ", ".join(sorted(name for reply in replies for name in reply))


def health_report() -> dict:
    """Status of each part; 'down' when the database or broker fails, 'degraded' when no worker answers."""
    checks = {"database": _timed(_database), "broker": _timed(_broker)}
    checks["workers"] = _timed(_workers) if checks["broker"]["ok"] else {"ok": False, "detail": "broker unreachable"}
    if not (checks["database"]["ok"] and checks["broker"]["ok"]):
        status = "down"
    elif not checks["workers"]["ok"]:
        status = "degraded"
    else:
        status = "ok"
    return {"status": status, "checks": checks}
