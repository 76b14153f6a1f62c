"""A batch fee is paid when the bank took the money, never later than we learn of it."""
from __future__ import annotations

from datetime import datetime, timedelta

from app.domain.zone import SHANGHAI
from app.services.batch_debit import _dated_by_our_clock
from payments.bank import ResultLine

NOW = datetime(2026, 11, 26, 0, 20, tzinfo=SHANGHAI)


def line(key: str, code: str, debited_at: datetime | None) -> ResultLine:
    return ResultLine(1, key, "AG1", 45000, code, "T1", "", debited_at=debited_at)


def test_the_banks_time_is_kept_unless_it_is_ahead_of_our_clock():
    before_midnight = NOW - timedelta(minutes=30)
    lines = [line("K1", "00", before_midnight), line("K2", "00", NOW + timedelta(minutes=5)), line("K3", "51", None)]
    assert [x.debited_at for x in _dated_by_our_clock(lines, NOW)] == [before_midnight, NOW, None]
    assert [x.line_key for x in _dated_by_our_clock(lines, NOW)] == ["K1", "K2", "K3"]
