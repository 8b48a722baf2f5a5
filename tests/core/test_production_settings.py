"""Production settings refuse to start without their secrets, and pass the deploy checklist with them."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(extra_env: dict, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS"}}
    env.update({"DJANGO_SETTINGS_MODULE": "retailai.settings.production", **extra_env})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_refuses_to_start_without_secret_key():
    result = _run({"ALLOWED_HOSTS": "shop.example"}, "check")
    assert result.returncode != 0
    assert "Environment variable SECRET_KEY is required and not set." in result.stderr


def test_refuses_a_weak_secret_key():
    result = _run({"SECRET_KEY": "local-development-only", "ALLOWED_HOSTS": "shop.example"}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be a random value of at least 50 characters." in result.stderr


def test_refuses_to_start_without_allowed_hosts():
    result = _run({"SECRET_KEY": secrets.token_urlsafe(50)}, "check")
    assert result.returncode != 0
    assert "Environment variable ALLOWED_HOSTS is required and not set." in result.stderr


def test_deploy_checklist_is_clean_with_secrets():
    secret = secrets.token_urlsafe(50)
    result = _run(
        {"SECRET_KEY": secret, "ALLOWED_HOSTS": "shop.example"}, "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
