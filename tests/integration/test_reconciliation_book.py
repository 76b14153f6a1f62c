"""The SQL reconciliation book on PostgreSQL: statement numbers with COPY's special characters survive staging."""
from __future__ import annotations

from datetime import date, datetime

from app.adapters.clock import SHANGHAI, FixedClock
from app.services.reconciliation import reconcile_day
from payments.base import StatementLine

ODD = "A\tB\\C\nD"


class StatementOf:
    code = "odd"

    def __init__(self, lines):
        self.lines = lines

    def statement(self, day: date):
        return self.lines


def test_order_and_refund_numbers_with_tabs_backslashes_and_newlines_come_back_as_sent(container):
    lines = [StatementLine("payment", ODD, 100), StatementLine("refund", ODD, 50, refund_no=ODD + "R"),
             StatementLine("payment", "plain", 7)]
    clock = FixedClock(datetime(2026, 11, 23, 9, tzinfo=SHANGHAI))
    report = reconcile_day(date(2026, 11, 22), "odd", {"odd": StatementOf(lines)}, container.reconciliation_book,
                           clock)
    assert sorted((d.kind, d.order_no, d.refund_no, d.provider_amount_fen) for d in report.differences) == [
        ("missing_here", ODD, None, 100), ("missing_here", "plain", None, 7),
        ("refund_unknown_here", ODD, ODD + "R", 50)]
    assert (report.run.statement.payment_count, report.run.statement.payment_fen) == (2, 107)
