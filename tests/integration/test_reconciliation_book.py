"""The SQL reconciliation book on PostgreSQL: statement numbers with COPY's special characters survive staging."""
from __future__ import annotations

from datetime import date, datetime

import pytest

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


def test_a_debit_we_dated_the_day_before_is_matched_by_number_and_missing_only_from_that_day(container):
    from datetime import timedelta

    from sqlalchemy import insert

    from app.adapters import tables as t

    late = datetime(2026, 11, 21, 23, 59, 59, tzinfo=SHANGHAI)
    with container.engine.begin() as conn:
        conn.execute(insert(t.payment_order).values(
            order_no="LATE1", channel="api", provider="odd", method="qr", amount_fen=300, state="refunded",
            description="社保费", created_at=late, expires_at=late + timedelta(hours=1), paid_at=late, version=0))
        order_id = conn.execute(t.payment_order.select()).first().id
        conn.execute(insert(t.refund).values(refund_no="RLATE1", order_id=order_id, amount_fen=300, reason="x",
                                             state="succeeded", created_at=late))
    clock = FixedClock(datetime(2026, 11, 23, 9, tzinfo=SHANGHAI))
    provider = StatementOf([StatementLine("payment", "LATE1", 300)])
    on_22nd = reconcile_day(date(2026, 11, 22), "odd", {"odd": provider}, container.reconciliation_book, clock)
    assert on_22nd.differences == [] and on_22nd.run.ours.payment_count == 0
    provider.lines = []
    on_21st = reconcile_day(date(2026, 11, 21), "odd", {"odd": provider}, container.reconciliation_book, clock)
    assert sorted(d.key for d in on_21st.differences) == ["missing_there:LATE1", "refund_missing_there:RLATE1"]


def test_a_statement_that_breaks_while_read_stages_nothing_and_the_next_run_works(container):
    from app.services.reconciliation import list_runs

    def breaking():
        yield StatementLine("payment", "B1", 100)
        raise ValueError("line 2 of the bill cannot be read")

    clock = FixedClock(datetime(2026, 11, 23, 9, tzinfo=SHANGHAI))
    with pytest.raises(ValueError, match="line 2"):
        reconcile_day(date(2026, 11, 22), "odd", {"odd": StatementOf([])}, container.reconciliation_book, clock,
                      statement=breaking())
    assert list_runs(None, "odd", container.reconciliation_book) == []
    again = reconcile_day(date(2026, 11, 22), "odd", {"odd": StatementOf([StatementLine("payment", "B1", 100)])},
                          container.reconciliation_book, clock)
    assert [(d.kind, d.order_no) for d in again.differences] == [("missing_here", "B1")]


def test_statement_amounts_beyond_32_bits_of_fen_are_summed_exactly(container):
    big = 2**31 + 12_345  # the sum is taken as two 32-bit halves: the upper one must count
    lines = [StatementLine("payment", "BIG", big), StatementLine("payment", "BIG", big + 1)]
    clock = FixedClock(datetime(2026, 11, 23, 9, tzinfo=SHANGHAI))
    report = reconcile_day(date(2026, 11, 22), "odd", {"odd": StatementOf(lines)}, container.reconciliation_book,
                           clock)
    assert [(d.kind, d.provider_amount_fen) for d in report.differences] == [("missing_here", 2 * big + 1)]


def test_the_book_reconciles_on_sqlite_too(tmp_path):
    from sqlalchemy import create_engine

    from app.adapters.reconciliation_sql import SqlReconciliationBook
    from app.migrate import upgrade_database

    url = f"sqlite:///{tmp_path / 'recon.db'}"
    upgrade_database(url)
    engine = create_engine(url)
    big = 2**31 + 12_345
    lines = [StatementLine("payment", "BIG", big), StatementLine("payment", "BIG", big + 1),
             StatementLine("refund", "R1", 50, refund_no="RN1")]
    clock = FixedClock(datetime(2026, 11, 23, 9, tzinfo=SHANGHAI))
    report = reconcile_day(date(2026, 11, 22), "odd", {"odd": StatementOf(lines)},
                           lambda: SqlReconciliationBook(engine), clock)
    assert sorted((d.kind, d.provider_amount_fen) for d in report.differences) == [
        ("missing_here", 2 * big + 1), ("refund_unknown_here", 50)]
    again = reconcile_day(date(2026, 11, 22), "odd", {"odd": StatementOf(lines)},
                          lambda: SqlReconciliationBook(engine), clock)
    assert again.new_differences == 0


def test_order_numbers_that_differ_only_in_case_or_script_are_grouped_apart(container):
    # the statement's lines are grouped by order number with a byte-wise sort: each number its own group
    lines = [StatementLine("payment", number, fen) for number, fen in
             [("ab", 1), ("Ab", 10), ("ab", 2), ("中1", 100), ("AB", 1000), ("中1", 200), ("ab ", 5)]]
    clock = FixedClock(datetime(2026, 11, 23, 9, tzinfo=SHANGHAI))
    report = reconcile_day(date(2026, 11, 22), "odd", {"odd": StatementOf(lines)}, container.reconciliation_book,
                           clock)
    assert sorted((d.order_no, d.provider_amount_fen) for d in report.differences) == [
        ("AB", 1000), ("Ab", 10), ("ab", 3), ("ab ", 5), ("中1", 300)]


@pytest.mark.parametrize("workers", [0, 2])
def test_the_book_gives_postgresql_the_parallel_workers_it_was_given(container, workers):
    from app.adapters.reconciliation_sql import SqlReconciliationBook

    with SqlReconciliationBook(container.engine, workers) as book:
        book.load_statement([StatementLine("payment", "W1", 1)])
        setting = book.conn.exec_driver_sql("SELECT current_setting('max_parallel_workers_per_gather')").scalar()
        assert (setting, book.statement_totals().payment_count) == (str(workers), 1)
