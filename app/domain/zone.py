"""The one rule for time: moments are stored as aware UTC and shown in Asia/Shanghai (Beijing time).

Everything in the core that needs the zone imports it from here; dates a payer reads (today,
a payment's day, a fee period) are days in Asia/Shanghai.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc


def as_utc(moment: datetime) -> datetime:
    """A moment for storage: aware UTC. A naive moment is refused: it could be in any zone."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give the moment its zone before storing it")
    return moment.astimezone(UTC)


def in_shanghai(moment: datetime) -> datetime:
    """A stored moment in Beijing time (a naive one is taken as UTC, the way we store it)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(SHANGHAI)


def local_iso(moment: datetime | None) -> str | None:
    """A stored moment as Asia/Shanghai ISO text, e.g. 2026-11-24T07:30:00+08:00."""
    return in_shanghai(moment).isoformat() if moment else None


def local_minute(moment: datetime | None) -> str:
    """A stored moment as a payer reads it: 2026-11-24 07:30 (Beijing time)."""
    return in_shanghai(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def shanghai_date(moment: datetime) -> date:
    """The calendar day of a moment in Asia/Shanghai."""
    return in_shanghai(moment).date()


def start_of_day(day: date) -> datetime:
    """Midnight at the start of a day in Asia/Shanghai, for half-open ranges [start, next start)."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
