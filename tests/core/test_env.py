"""Typed env helpers fail loudly on bad values."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from retailai.core.env import env_bool, env_int, env_list, env_str


def test_env_bool_parses_words(monkeypatch):
    monkeypatch.setenv("X_FLAG", "Yes")
    assert env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "off")
    assert env_bool("X_FLAG") is False


def test_env_bool_rejects_garbage(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG='maybe' is not a boolean"):
        env_bool("X_FLAG")


def test_env_int_rejects_garbage(monkeypatch):
    monkeypatch.setenv("X_NUM", "12a")
    with pytest.raises(ImproperlyConfigured, match="X_NUM='12a' is not an integer"):
        env_int("X_NUM")


def test_env_list_and_defaults(monkeypatch):
    monkeypatch.setenv("X_HOSTS", "a.example, b.example,,")
    assert env_list("X_HOSTS") == ["a.example", "b.example"]
    monkeypatch.delenv("X_MISSING", raising=False)
    assert env_int("X_MISSING", 7) == 7


def test_required_variable_without_default(monkeypatch):
    monkeypatch.delenv("X_REQUIRED", raising=False)
    with pytest.raises(ImproperlyConfigured, match="X_REQUIRED is required"):
        env_str("X_REQUIRED")
