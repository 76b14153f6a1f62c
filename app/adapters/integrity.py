"""Which unique constraint an IntegrityError broke, on PostgreSQL and SQLite alike.

A race that both sides lose to the database (two declarations of one period at the same
moment, two e-ticket numbers alike) surfaces as an IntegrityError; the repositories turn the
ones they expect into a domain answer and let any other rise.
"""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError


def broke(error: IntegrityError, constraint: str, sqlite_columns: tuple[str, ...]) -> bool:
    """True when ``error`` is this unique constraint (PostgreSQL names it; SQLite lists its columns)."""
    diag = getattr(error.orig, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None):
        return diag.constraint_name == constraint
    text = str(error.orig)
    return "UNIQUE constraint failed" in text and all(column in text for column in sqlite_columns)
