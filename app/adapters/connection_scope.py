"""A store that works on one connection: ``with store:`` is one transaction.

Leaving ``with`` without ``commit()`` rolls back; ``commit()`` commits and begins the next
transaction on the same connection. A store sets up each transaction in ``_begun`` (e.g.
``SET LOCAL`` settings, which end with their transaction) and tidies the connection in
``_closing`` before it goes back to the pool.
"""
from __future__ import annotations

from typing import Self

from sqlalchemy import Connection, Engine


class OneConnection:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.conn: Connection | None = None

    def __enter__(self) -> Self:
        self.conn = self.engine.connect()
        self.conn.begin()
        self._begun()
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.conn.in_transaction():
                self.conn.rollback()
            self._closing()
        finally:
            self.conn.close()
            self.conn = None

    def commit(self) -> None:
        self.conn.commit()
        self.conn.begin()
        self._begun()

    def _begun(self) -> None:
        """Each transaction's set-up; nothing by default."""

    def _closing(self) -> None:
        """What the connection must lose before it is closed; nothing by default."""

    @property
    def _postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"
