"""State tables enforced: every aggregate moves through ``require_move``.

A forbidden move is a bug in the caller, not a payer's mistake: it raises ``IllegalMove``
(never a ``DomainError``), so it fails a test loudly and answers 500 rather than passing as a
refusal. A move that lost a race is different: the repository's compare-and-set reports it.
"""
from __future__ import annotations

from typing import Mapping


class IllegalMove(RuntimeError):
    """A move the declared state table does not allow."""


def require_move(table: Mapping[str, tuple[str, ...]], what: str, current: str, new: str) -> None:
    """Raise ``IllegalMove`` unless ``table`` allows ``current`` → ``new``."""
    if new not in table.get(current, ()):
        raise IllegalMove(f"{what} cannot move from {current!r} to {new!r}")
