"""Domain errors: a stable ``code`` for programs and a Chinese ``message`` for the payer.

One handler in ``app/errors.py`` maps them to HTTP by their class; views never catch them.
"""
from __future__ import annotations


class DomainError(Exception):
    """A rule said no. ``field`` names the input it concerns, when there is one."""

    http_status = 400

    def __init__(self, code: str, message: str, field: str | None = None, **details):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field
        self.details = details


class InvalidInput(DomainError):
    """The input breaks a rule (a check digit, a base out of range, a closed period)."""

    http_status = 400


class NotFound(DomainError):
    http_status = 404


class Conflict(DomainError):
    """The current state forbids the change (already declared, already paid, in flight)."""

    http_status = 409


class Forbidden(DomainError):
    http_status = 403


class Unauthenticated(DomainError):
    http_status = 401


class TooManyAttempts(DomainError):
    http_status = 429
