"""Fee periods: months written ``YYYY-MM`` and years; dates are Asia/Shanghai."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from app.domain.zone import SHANGHAI, local_iso  # noqa: F401  (re-exported: older imports)

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Month":
        match = _MONTH.match(str(text).strip())
        if not match:
            raise ValueError(f"not a YYYY-MM month: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> "Month":
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def index(self) -> int:
        return self.year * 12 + (self.month - 1)

    @classmethod
    def from_index(cls, index: int) -> "Month":
        return cls(index // 12, index % 12 + 1)

    def plus(self, months: int) -> "Month":
        return Month.from_index(self.index() + months)

    def months_until(self, other: "Month") -> int:
        return other.index() - self.index()

    def first_day(self) -> date:
        return date(self.year, self.month, 1)


def month_range(start: Month, end: Month) -> list[Month]:
    """Every month from start to end, both included."""
    return [Month.from_index(i) for i in range(start.index(), end.index() + 1)]
