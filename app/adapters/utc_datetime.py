"""A timestamp column that stores aware UTC and reads back aware UTC, on PostgreSQL and SQLite alike.

PostgreSQL's timestamptz keeps the instant already; SQLite keeps text without an offset, so a
Beijing-time moment written as is would come back naive and be taken for UTC, eight hours off.
Converting to UTC on the way in and labelling UTC on the way out makes both databases hold
the same instants; screens convert to Beijing time (``app.domain.zone``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from app.domain.zone import UTC, as_utc


class UtcDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        return as_utc(value) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
