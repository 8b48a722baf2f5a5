"""Typed environment helpers that fail loudly on bad values."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_UNSET = object()


def _raw(name: str, default: object) -> str | object:
    value = os.environ.get(name)
    if value is None:
        if default is _UNSET:
            raise ImproperlyConfigured(f"Environment variable {name} is required and not set.")
        return default
    return value


def env_str(name: str, default: object = _UNSET) -> str:
    """A string variable; required when no default is given."""
    value = _raw(name, default)
    return value  # type: ignore[return-value]


def env_bool(name: str, default: bool | object = _UNSET) -> bool:
    """A boolean variable: 1/true/yes/on or 0/false/no/off."""
    value = _raw(name, default)
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"Environment variable {name}={value!r} is not a boolean (use true/false).")


def env_int(name: str, default: int | object = _UNSET) -> int:
    """An integer variable."""
    value = _raw(name, default)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ImproperlyConfigured(f"Environment variable {name}={value!r} is not an integer.") from None


def env_list(name: str, default: list[str] | object = _UNSET) -> list[str]:
    """A comma-separated list variable; blanks are dropped."""
    value = _raw(name, default)
    if isinstance(value, list):
        return value
    return [part.strip() for part in str(value).split(",") if part.strip()]
