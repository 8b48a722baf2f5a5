"""Domain errors raised by services; one API handler maps them to HTTP answers."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class ValidationFailed(DomainError):
    """Input that breaks a business rule (HTTP 400)."""


class NotAllowed(DomainError):
    """The actor may not do this (HTTP 403)."""

    status_code = 403
    code = "forbidden"


class Conflict(DomainError):
    """Someone else acted first, or the object is in the wrong state (HTTP 409)."""

    status_code = 409
    code = "conflict"
