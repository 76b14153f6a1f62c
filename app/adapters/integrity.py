"""Which unique constraint an IntegrityError broke, on PostgreSQL and SQLite alike.

A race that both sides lose to the database (two declarations of one period at the same
moment, two e-ticket numbers alike) surfaces as an IntegrityError; the repositories turn the
ones they expect into a domain answer and let any other rise.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Callable, Iterator

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


@contextmanager
def refused_as(constraint: str | re.Pattern, sqlite_columns: tuple[str, ...],
               answer: Callable[[], Exception]) -> Iterator[None]:
    """Within the block, this unique constraint refusing a write (a request at the same moment won)
    raises ``answer()``, the domain's words for it; any other IntegrityError rises as it was."""
    try:
        yield
    except IntegrityError as error:
        if not broke(error, constraint, sqlite_columns):
            raise
        raise answer() from None


def check_broken(error: IntegrityError) -> str | None:
    """The name of the CHECK constraint ``error`` broke on PostgreSQL; None for anything else."""
    diag = getattr(error.orig, "diag", None)
    if getattr(error.orig, "sqlstate", None) != "23514" or diag is None:
        return None
    return diag.constraint_name
