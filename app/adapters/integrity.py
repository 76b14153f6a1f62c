"""Which unique constraint an IntegrityError broke, on PostgreSQL and SQLite alike.

A race that both sides lose to the database (two declarations of one period at the same
moment, two e-ticket numbers alike) surfaces as an IntegrityError; the repositories turn the
ones they expect into a domain answer and let any other rise.
"""
from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError


def broke(error: IntegrityError, constraint: str | re.Pattern, sqlite_columns: tuple[str, ...]) -> bool:
    """True when ``error`` is this unique constraint (PostgreSQL names it; SQLite lists its columns).

    A pattern matches the names of a partitioned table's constraint: PostgreSQL reports the
    partition's own index (``uq_assessment_default_live_period``), not the parent's.
    """
    diag = getattr(error.orig, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None):
        if isinstance(constraint, re.Pattern):
            return constraint.fullmatch(diag.constraint_name) is not None
        return diag.constraint_name == constraint
    text = str(error.orig)
    return "UNIQUE constraint failed" in text and all(column in text for column in sqlite_columns)


def check_broken(error: IntegrityError) -> str | None:
    """The name of the CHECK constraint ``error`` broke on PostgreSQL; None for anything else."""
    diag = getattr(error.orig, "diag", None)
    if getattr(error.orig, "sqlstate", None) != "23514" or diag is None:
        return None
    return diag.constraint_name
