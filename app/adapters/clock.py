"""Time in Asia/Shanghai, and notice numbers."""
from __future__ import annotations

import secrets
from datetime import date, datetime
from app.domain.periods import SHANGHAI


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(SHANGHAI)

    def today(self) -> date:
        return self.now().date()


class FixedClock:
    """A clock that says what it is told; for tests and demos of a given day."""

    def __init__(self, now: datetime):
        self._now = now if now.tzinfo else now.replace(tzinfo=SHANGHAI)

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def set(self, now: datetime) -> None:
        self._now = now if now.tzinfo else now.replace(tzinfo=SHANGHAI)


class RandomNoticeNumbers:
    """告知单号: region (6) + date (8) + 10 random digits; one notice covers one declaration."""

    def next(self, region: str, today: date) -> str:
        return f"{region[:6]:0<6}{today:%Y%m%d}{secrets.randbelow(10 ** 10):010d}"


class RandomNumbers:
    """Order numbers (time + random) and refund numbers.

    Unique constraints in the schema catch the (astronomically unlikely) collision. E-ticket
    numbers come from a database serial instead (``SqlOrders.add_payments``).
    """

    def order_no(self, now: datetime) -> str:
        return f"{now.astimezone(SHANGHAI):%Y%m%d%H%M%S}{secrets.randbelow(10 ** 8):08d}"

    def refund_no(self, now: datetime) -> str:
        return f"R{now.astimezone(SHANGHAI):%Y%m%d%H%M%S}{secrets.randbelow(10 ** 8):08d}"
