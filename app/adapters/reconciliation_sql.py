"""The reconciliation book in SQL: the statement staged by COPY, matched with our books set-based.

A day's statement may hold a million lines, so it never becomes a Python dict: the lines stream
into a temporary table (COPY on PostgreSQL, batched inserts on SQLite), the table is analysed,
and a handful of statements join it with ``payment_order``, ``payment``, ``assessment`` and
``refund``. Only the order and refund numbers that are not plainly in agreement come back to
Python, for the domain's rules to name their differences. The "plainly in agreement" test in
SQL is deliberately narrow (one line, a posted order of the same amount, posted in full, no
refund): anything else goes to the rules, which decide, so the two cannot drift apart into a
missed difference.

Differences are inserted with ``ON CONFLICT DO NOTHING`` on (provider, day, key): a re-run,
or two runs at once, add nothing that is already there and never touch a resolution.
"""
from __future__ import annotations

from datetime import date, datetime
from itertools import islice
from typing import Callable, Iterable, Iterator

from sqlalchemy import DateTime, and_, bindparam, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from app.adapters import tables as t
from app.domain.orders import DEBITED_STATES, POSTED, REFUND_FAILED
from app.domain.reconciliation import (LIVE_REFUND_STATES, DayWindow, Difference, OrderComparison, RefundComparison,
                                       Totals)
from app.services.reconciliation import RunRecord, StoredDifference
from payments.base import StatementLine

STAGE = "recon_line"
BATCH = 20_000  # lines per COPY write and per progress report
WORK_MEM = "128MB"  # for this transaction only
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_WINDOW = (bindparam("start", type_=DateTime(timezone=True)), bindparam("end", type_=DateTime(timezone=True)))
_LIVE_REFUND = ", ".join(f"'{s}'" for s in LIVE_REFUND_STATES)

# what an order posted (its payments whose assessment is still paid) and refunded, for one row
_ORDER_SETTLED = """
    (SELECT coalesce(sum(p.amount_fen), 0) FROM payment p JOIN assessment a ON a.id = p.assessment_id
     WHERE p.order_id = {o}.id AND a.state = 'paid') AS posted_fen,
    (SELECT coalesce(sum(x.amount_fen), 0) FROM refund x WHERE x.order_id = {o}.id AND x.state <> '{failed}')
     AS refunded_fen
"""

# One row per order number that is not plainly in agreement. The day's own orders (found by
# ``ix_payment_order_provider_paid_at``) meet the statement in hash joins; statement lines of
# any other order (unknown here, or debited on another day: few) are looked up one by one by
# order number, so the order history is never scanned whole.
_ORDER_COMPARISONS = f"""
WITH st AS MATERIALIZED (
    SELECT order_no, count(*) AS lines, CAST(sum(amount_fen) AS BIGINT) AS fen
    FROM {STAGE} WHERE kind = 'payment' GROUP BY order_no
), ours AS MATERIALIZED (
    SELECT id, order_no, state, amount_fen FROM payment_order
    WHERE provider = :provider AND paid_at >= :start AND paid_at < :end
), posted AS (
    SELECT p.order_id, CAST(sum(p.amount_fen) AS BIGINT) AS fen
    FROM ours JOIN payment p ON p.order_id = ours.id JOIN assessment a ON a.id = p.assessment_id
    WHERE a.state = 'paid' GROUP BY p.order_id
), refunded AS (
    SELECT r.order_id, CAST(sum(r.amount_fen) AS BIGINT) AS fen
    FROM refund r JOIN ours ON ours.id = r.order_id WHERE r.state <> '{REFUND_FAILED}' GROUP BY r.order_id
), other AS (
    SELECT st.order_no, st.lines, st.fen,
           (SELECT x.id FROM payment_order x WHERE x.order_no = st.order_no AND x.provider = :provider) AS id
    FROM st WHERE NOT EXISTS (SELECT 1 FROM ours WHERE ours.order_no = st.order_no)
)
SELECT ours.order_no, coalesce(st.lines, 0) AS lines, coalesce(st.fen, 0) AS fen, ours.state, ours.amount_fen,
       1 AS in_day, coalesce(posted.fen, 0) AS posted_fen, coalesce(refunded.fen, 0) AS refunded_fen
FROM ours LEFT JOIN st ON st.order_no = ours.order_no
     LEFT JOIN posted ON posted.order_id = ours.id LEFT JOIN refunded ON refunded.order_id = ours.id
WHERE CASE WHEN st.lines = 1 AND ours.state = '{POSTED}' AND st.fen = ours.amount_fen
           AND posted.fen = ours.amount_fen AND refunded.order_id IS NULL THEN 1 ELSE 0 END = 0
UNION ALL
SELECT other.order_no, other.lines, other.fen,
       (SELECT x.state FROM payment_order x WHERE x.id = other.id) AS state,
       (SELECT x.amount_fen FROM payment_order x WHERE x.id = other.id) AS amount_fen,
       0 AS in_day, {_ORDER_SETTLED.format(o="other", failed=REFUND_FAILED)}
FROM other
"""

# one row per refund number of the statement, with our refund and its order (refunds are few: per row is fine)
_REFUND_COMPARISONS = f"""
WITH st AS (
    SELECT coalesce(refund_no, '') AS refund_no, max(order_no) AS order_no, count(*) AS lines,
           sum(amount_fen) AS fen
    FROM {STAGE} WHERE kind = 'refund' GROUP BY coalesce(refund_no, '')
), m AS (
    SELECT st.refund_no, coalesce(o.order_no, st.order_no) AS order_no, st.lines, st.fen, r.state, r.amount_fen,
           CASE WHEN r.created_at >= :start AND r.created_at < :end THEN 1 ELSE 0 END AS in_day,
           o.id, coalesce(o.amount_fen, 0) AS order_amount_fen
    FROM st LEFT JOIN (refund r JOIN payment_order o ON o.id = r.order_id AND o.provider = :provider)
         ON r.refund_no = st.refund_no
)
SELECT m.*, {_ORDER_SETTLED.format(o="m", failed=REFUND_FAILED)}
FROM m
"""

_REFUNDS_MISSING_THERE = f"""
SELECT r.refund_no, o.order_no, r.state, r.amount_fen FROM refund r JOIN payment_order o ON o.id = r.order_id
WHERE o.provider = :provider AND r.created_at >= :start AND r.created_at < :end AND r.state IN ({_LIVE_REFUND})
  AND NOT EXISTS (SELECT 1 FROM {STAGE} l WHERE l.kind = 'refund' AND l.refund_no = r.refund_no)
"""


def _copy_text(value: str | None) -> str:
    """A value in COPY's text format: NULL as \\N, its few special characters escaped."""
    return "\\N" if value is None else value.translate(_COPY_ESCAPES)


class SqlReconciliationBook:
    """The book on one connection; ``with book:`` is one transaction, the staged lines live in it."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.conn: Connection | None = None

    def __enter__(self) -> "SqlReconciliationBook":
        self.conn = self.engine.connect()
        self.conn.begin()
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.conn.in_transaction():
                self.conn.rollback()
            if not self._postgres:
                self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{STAGE}")
        finally:
            self.conn.close()
            self.conn = None

    def commit(self) -> None:
        self.conn.commit()
        self.conn.begin()

    @property
    def _postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    # -- the statement ------------------------------------------------------------------------

    def load_statement(self, lines: Iterable[StatementLine], on_progress: Callable[[int], None] | None = None) -> None:
        """Stream the lines into a temporary table; nothing of the statement is kept in Python."""
        columns = "kind text NOT NULL, order_no text, refund_no text, amount_fen bigint NOT NULL"
        if self._postgres:
            # the hash joins and aggregates of a big day stay in memory rather than spill to disk
            self.conn.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")
            self.conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {STAGE} ({columns}) ON COMMIT DROP")
            cursor = self.conn.connection.driver_connection.cursor()
            texts = (f"{_copy_text(line.kind)}\t{_copy_text(line.order_no)}\t{_copy_text(line.refund_no)}\t"
                     f"{int(line.amount_fen)}\n" for line in lines)
            # FREEZE: the table is this transaction's own, so its rows need no hint bits set by the first read
            with cursor.copy(f"COPY {STAGE} (kind, order_no, refund_no, amount_fen) FROM STDIN WITH (FREEZE)") as copy:
                while batch := list(islice(texts, BATCH)):
                    copy.write("".join(batch))
                    if on_progress:
                        on_progress(len(batch))
            # a temporary table is never analysed by autovacuum; the joins need its statistics
            self.conn.exec_driver_sql(f"ANALYZE {STAGE}")
        else:
            self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{STAGE}")
            self.conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {STAGE} ({columns})")
            cursor = self.conn.connection.driver_connection.cursor()
            rows = ((line.kind, line.order_no, line.refund_no, line.amount_fen) for line in lines)
            while batch := list(islice(rows, BATCH)):
                cursor.executemany(f"INSERT INTO {STAGE} VALUES (?, ?, ?, ?)", batch)
                if on_progress:
                    on_progress(len(batch))

    def statement_totals(self) -> Totals:
        found = {kind: (count, fen) for kind, count, fen in self.conn.exec_driver_sql(
            f"SELECT kind, count(*), coalesce(sum(amount_fen), 0) FROM {STAGE} GROUP BY kind")}
        (pay_n, pay_fen), (ref_n, ref_fen) = found.get("payment", (0, 0)), found.get("refund", (0, 0))
        return Totals(int(pay_n), int(pay_fen), int(ref_n), int(ref_fen))

    def our_totals(self, provider: str, window: DayWindow) -> Totals:
        o, r = t.payment_order, t.refund
        pay_n, pay_fen = self.conn.execute(
            select(func.count(), func.coalesce(func.sum(o.c.amount_fen), 0))
            .where(o.c.provider == provider, o.c.paid_at >= window.start, o.c.paid_at < window.end,
                   o.c.state.in_(DEBITED_STATES))).one()
        ref_n, ref_fen = self.conn.execute(
            select(func.count(), func.coalesce(func.sum(r.c.amount_fen), 0))
            .select_from(r.join(o, o.c.id == r.c.order_id))
            .where(o.c.provider == provider, r.c.created_at >= window.start, r.c.created_at < window.end,
                   r.c.state.in_(LIVE_REFUND_STATES))).one()
        return Totals(int(pay_n), int(pay_fen), int(ref_n), int(ref_fen))

    # -- matching -----------------------------------------------------------------------------

    def _query(self, sql: str, provider: str, window: DayWindow):
        statement = text(sql).bindparams(*_WINDOW)
        return self.conn.execute(statement, {"provider": provider, "start": window.start, "end": window.end})

    def order_comparisons(self, provider: str, window: DayWindow) -> Iterator[OrderComparison]:
        for row in self._query(_ORDER_COMPARISONS, provider, window):
            yield OrderComparison(row.order_no, int(row.lines), int(row.fen), row.state, row.amount_fen,
                                  bool(row.in_day), int(row.posted_fen), int(row.refunded_fen))

    def refund_comparisons(self, provider: str, window: DayWindow) -> Iterator[RefundComparison]:
        for row in self._query(_REFUND_COMPARISONS, provider, window):
            yield RefundComparison(row.refund_no or None, row.order_no, int(row.lines), int(row.fen),
                                   row.state if row.id is not None else None, row.amount_fen, bool(row.in_day),
                                   int(row.order_amount_fen), int(row.posted_fen), int(row.refunded_fen))
        for row in self._query(_REFUNDS_MISSING_THERE, provider, window):
            yield RefundComparison(row.refund_no, row.order_no, 0, 0, row.state, row.amount_fen, True)

    # -- runs and differences -----------------------------------------------------------------

    def run(self, day: date, provider: str) -> RunRecord | None:
        row = self.conn.execute(select(t.reconciliation_run).where(
            t.reconciliation_run.c.day == day, t.reconciliation_run.c.provider == provider)).first()
        return _run(row) if row else None

    def save_run(self, run: RunRecord) -> int:
        r = t.reconciliation_run
        values = dict(day=run.day, provider=run.provider, state=run.state,
                      statement_payment_count=run.statement.payment_count,
                      statement_payment_fen=run.statement.payment_fen,
                      statement_refund_count=run.statement.refund_count, statement_refund_fen=run.statement.refund_fen,
                      our_payment_count=run.ours.payment_count, our_payment_fen=run.ours.payment_fen,
                      our_refund_count=run.ours.refund_count, our_refund_fen=run.ours.refund_fen,
                      difference_count=run.difference_count, error=run.error, started_at=run.started_at,
                      finished_at=run.finished_at)
        insert = (postgresql.insert if self._postgres else sqlite.insert)(r).values(**values)
        changed = {k: v for k, v in values.items() if k not in ("day", "provider")}
        return self.conn.execute(insert.on_conflict_do_update(index_elements=[r.c.day, r.c.provider], set_=changed)
                                 .returning(r.c.id)).scalar_one()

    def add_differences(self, run_id: int, day: date, provider: str, differences: list[Difference],
                        at: datetime) -> int:
        if not differences:
            return 0
        d = t.reconciliation_difference
        rows = [dict(run_id=run_id, day=day, provider=provider, kind=x.kind, key=x.key, order_no=x.order_no,
                     refund_no=x.refund_no, provider_amount_fen=x.provider_amount_fen,
                     our_amount_fen=x.our_amount_fen, detail=x.detail[:300], found_at=at) for x in differences]
        insert = (postgresql.insert if self._postgres else sqlite.insert)(d)
        new = 0
        for first in range(0, len(rows), 1000):
            result = self.conn.execute(insert.values(rows[first:first + 1000]).on_conflict_do_nothing(
                index_elements=[d.c.provider, d.c.day, d.c.key]).returning(d.c.id))
            new += len(result.all())
        return new

    def runs(self, day: date | None, provider: str | None, limit: int) -> list[RunRecord]:
        r = t.reconciliation_run
        query = select(r).order_by(r.c.day.desc(), r.c.provider).limit(limit)
        if day is not None:
            query = query.where(r.c.day == day)
        if provider is not None:
            query = query.where(r.c.provider == provider)
        return [_run(row) for row in self.conn.execute(query)]

    def differences(self, day: date | None, provider: str | None, kind: str | None, unresolved_only: bool,
                    after_id: int, limit: int) -> list[StoredDifference]:
        d = t.reconciliation_difference
        query = select(d).where(d.c.id > after_id).order_by(d.c.id).limit(limit)
        for column, value in ((d.c.day, day), (d.c.provider, provider), (d.c.kind, kind)):
            if value is not None:
                query = query.where(column == value)
        if unresolved_only:
            query = query.where(d.c.resolved_at.is_(None))
        return [_difference(row) for row in self.conn.execute(query)]

    def difference(self, difference_id: int) -> StoredDifference | None:
        d = t.reconciliation_difference
        row = self.conn.execute(select(d).where(d.c.id == difference_id)).first()
        return _difference(row) if row else None

    def resolve(self, difference_id: int, operator: str, note: str, at: datetime) -> bool:
        d = t.reconciliation_difference
        result = self.conn.execute(update(d).where(and_(d.c.id == difference_id, d.c.resolved_at.is_(None)))
                                   .values(resolved_at=at, resolved_by=operator, resolution_note=note))
        return result.rowcount == 1

    def unavailable_days(self, provider: str, since: date) -> list[date]:
        r = t.reconciliation_run
        return list(self.conn.execute(select(r.c.day).where(r.c.provider == provider, r.c.day >= since,
                                                            r.c.state == "unavailable")).scalars())


def _run(row) -> RunRecord:
    return RunRecord(row.day, row.provider, row.state,
                     Totals(row.statement_payment_count, row.statement_payment_fen, row.statement_refund_count,
                            row.statement_refund_fen),
                     Totals(row.our_payment_count, row.our_payment_fen, row.our_refund_count, row.our_refund_fen),
                     row.difference_count, row.started_at, row.finished_at, row.error, row.id)


def _difference(row) -> StoredDifference:
    return StoredDifference(row.id, row.day, row.provider, row.kind, row.order_no, row.refund_no,
                            row.provider_amount_fen, row.our_amount_fen, row.detail, row.found_at, row.resolved_at,
                            row.resolved_by, row.resolution_note)
