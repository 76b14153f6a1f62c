"""The reconciliation book in SQL: the statement staged by COPY, matched with our books set-based.

A day's statement may hold a million lines, so it never becomes a Python dict: the lines stream
into a temporary table (COPY on PostgreSQL, batched inserts on SQLite), the table is analysed,
and a handful of statements join it with ``payment_order``, ``payment``, ``assessment`` and
``refund``. Our side of the day (each order debited that day with what it posted and refunded)
does not depend on the statement: on PostgreSQL the database builds it into a second temporary
table on the book's connection, from a thread, while this process reads and formats the
statement into a spool file — the two cores work at once; as soon as that table is built, the
same thread starts the COPY and follows the spool as it grows, so the server parses the lines
that are ready while the rest are still being read.
The statement then meets our day in one full join. Only the order and refund numbers that are
not plainly in agreement come back to Python, for the domain's rules to name their
differences. The "plainly in agreement" test in SQL is deliberately narrow (one line, a posted
order of the same amount, posted in full, no refund): anything else goes to the rules, which
decide, so the two cannot drift apart into a missed difference.

Differences are inserted with ``ON CONFLICT DO NOTHING`` on (provider, day, key): a re-run,
or two runs at once, add nothing that is already there and never touch a resolution.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import date, datetime
from itertools import islice
from typing import Callable, Iterable, Iterator

from sqlalchemy import DateTime, and_, bindparam, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from app.adapters import tables as t
from app.adapters.connection_scope import OneConnection
from app.domain.orders import DEBITED_STATES, POSTED, REFUND_FAILED
from app.domain.reconciliation import (LIVE_REFUND_STATES, DayWindow, Difference, OrderComparison, RefundComparison,
                                       Totals)
from app.services.reconciliation import RunRecord, StoredDifference
from payments.base import StatementLine

STAGE = "recon_line"
BATCH = 20_000  # lines per progress report
SPOOL_BLOCK = 1 << 20  # bytes per COPY write from the spool file
# For this transaction only. The hash joins and aggregates of a big day stay in memory rather than
# spill to disk. No JIT: the planner's estimates for these joins ran to billions of rows, so it
# compiled the query with inlining and optimisation, 3 s of a 6 s query at 200,000 lines. No merge
# joins: sorting a million order numbers twice cost more than hashing them. Parallel workers only
# as many as the book is given (RECONCILIATION_PARALLEL_WORKERS, default none): our side of the day
# is built while this process reads the statement, and on a machine it shares with PostgreSQL two
# workers took the reader's core (5.3-5.6 s against 6.3-6.9 s a run, 1M lines, 2 cores); the
# queries after it read temporary tables, which parallel workers cannot.
_SETTINGS = ("work_mem = '128MB'", "jit = off", "enable_mergejoin = off", "parallel_setup_cost = 10",
             "parallel_tuple_cost = 0.001")
# The two million-group aggregates (our side by order id, the statement by order number) sort and
# sum each run of rows: cheaper than a hash table of a million groups (180 MB). Our side 2.2 s
# against 2.6 s (EXPLAIN ANALYZE), the order query 1.05 s against 1.4 s a run. The order numbers
# are sorted in the "C" collation (bytes), whatever the database's: a linguistic sort of a million
# strings would cost more than the hashing saved. Only for those two steps: the statement's totals
# group a million lines by kind, two groups, which a hash does best.
_SORTED_GROUPS = ("enable_hashagg = off",)
_BYTES = {"postgresql": ('COLLATE "C"', 'COLLATE "default"'), "sqlite": ("", "")}
_WINDOW = (bindparam("start", type_=DateTime(timezone=True)), bindparam("end", type_=DateTime(timezone=True)))
_LIVE_REFUND = ", ".join(f"'{s}'" for s in LIVE_REFUND_STATES)


def _sum_fen(column: str, where: str = "") -> str:
    """SQL for the exact ``sum`` of a bigint fen column, as two sums of int4 halves.

    ``sum(bigint)`` keeps a 128-bit state allocated apart for each group; ``sum(int)`` keeps a
    bigint in the group itself. In the aggregates of a million orders that is 9-15 % of the
    backend's CPU (measured). Exact for any amount below 2^62 fen; a total beyond bigint raises,
    as the cast of a numeric sum did. NULL when no row counts.
    """
    only = f" FILTER (WHERE {where})" if where else ""
    return (f"(sum(CAST({column} >> 31 AS INTEGER)){only} * 2147483648"
            f" + sum(CAST({column} & 2147483647 AS INTEGER)){only})")


# what an order posted (its payments whose assessment is still paid) and refunded, for one row
_ORDER_SETTLED = """
    (SELECT coalesce(sum(p.amount_fen), 0) FROM payment p JOIN assessment a ON a.id = p.assessment_id
     WHERE p.order_id = {o}.id AND a.state = 'paid') AS posted_fen,
    (SELECT coalesce(sum(x.amount_fen), 0) FROM refund x WHERE x.order_id = {o}.id AND x.state <> '{failed}')
     AS refunded_fen
"""

OURS = "recon_ours"

# Our side of the day, one row per order debited that day, with what it posted and refunded: it
# does not depend on the statement, so on PostgreSQL it is built while the statement is still
# being read (see ``load_statement``). The day's orders are found by
# ``ix_payment_order_provider_paid_at``; ``posted_fen`` is NULL when nothing is posted.
_OURS_OF_DAY = f"""
SELECT o.id, o.order_no, o.state, o.amount_fen,
       {_sum_fen('p.amount_fen', 'a.id IS NOT NULL')} AS posted_fen,
       coalesce(refunded.fen, 0) AS refunded_fen, refunded.order_id IS NOT NULL AS has_refund
FROM payment_order o
LEFT JOIN payment p ON p.order_id = o.id
LEFT JOIN assessment a ON a.id = p.assessment_id AND a.state = 'paid'
LEFT JOIN (SELECT r.order_id, CAST(sum(r.amount_fen) AS BIGINT) AS fen
           FROM refund r JOIN payment_order d ON d.id = r.order_id
           WHERE d.provider = :provider AND d.paid_at >= :start AND d.paid_at < :end AND r.state <> '{REFUND_FAILED}'
           GROUP BY r.order_id) refunded ON refunded.order_id = o.id
WHERE o.provider = :provider AND o.paid_at >= :start AND o.paid_at < :end
GROUP BY o.id, o.order_no, o.state, o.amount_fen, refunded.fen, refunded.order_id
"""

# One row per order number that is not plainly in agreement: the statement's payment lines by
# order number meet our day in one full join. Statement lines of any other order (unknown here,
# or debited on another day: few) are looked up one by one by order number afterwards, so the
# order history is never scanned whole.
_ORDER_COMPARISONS = f"""
WITH st AS (
    SELECT by_bytes {{default}} AS order_no, lines, fen FROM (
        SELECT order_no {{bytes}} AS by_bytes, count(*) AS lines, {_sum_fen('amount_fen')} AS fen
        FROM {STAGE} WHERE kind = 'payment' GROUP BY 1) grouped
), m AS MATERIALIZED (
    SELECT coalesce(ours.order_no, st.order_no) AS order_no, st.lines, st.fen, ours.id AS ours_id, ours.state,
           ours.amount_fen, ours.posted_fen, ours.refunded_fen
    FROM {OURS} ours FULL JOIN st ON st.order_no = ours.order_no
    WHERE CASE WHEN st.lines = 1 AND ours.state = '{POSTED}' AND st.fen = ours.amount_fen
               AND ours.posted_fen = ours.amount_fen AND NOT ours.has_refund THEN 1 ELSE 0 END = 0
), other AS (
    SELECT m.order_no, m.lines, m.fen,
           (SELECT x.id FROM payment_order x WHERE x.order_no = m.order_no AND x.provider = :provider) AS id
    FROM m WHERE m.ours_id IS NULL
)
SELECT m.order_no, coalesce(m.lines, 0) AS lines, coalesce(m.fen, 0) AS fen, m.state, m.amount_fen,
       1 AS in_day, coalesce(m.posted_fen, 0) AS posted_fen, m.refunded_fen
FROM m WHERE m.ours_id IS NOT NULL
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


class SqlReconciliationBook(OneConnection):
    """The book on one connection; ``with book:`` is one transaction, the staged lines live in it."""

    def __init__(self, engine: Engine, parallel_workers: int = 0):
        super().__init__(engine)
        self._parallel_workers = int(parallel_workers)
        self._ours_of: tuple[str, DayWindow] | None = None  # whose day the temporary table holds

    def _begun(self) -> None:
        self._ours_of = None  # PostgreSQL's temporary tables are ON COMMIT DROP

    def _closing(self) -> None:
        if not self._postgres:
            self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{STAGE}")
            self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{OURS}")

    # -- the statement ------------------------------------------------------------------------

    def load_statement(self, lines: Iterable[StatementLine], on_progress: Callable[[int], None] | None = None,
                       provider: str | None = None, window: DayWindow | None = None) -> None:
        """Stream the lines into a temporary table; nothing of the statement is kept in Python.

        Given the provider and the day, our side of the day is built at the same time: on
        PostgreSQL by the database (on a core of its own) while this process reads the statement
        into a spool file, which the COPY then follows (``FollowedSpool``) from the moment the
        connection is free.
        """
        columns = "kind text NOT NULL, order_no text, refund_no text, amount_fen bigint NOT NULL"
        if not self._postgres:
            self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{STAGE}")
            self.conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {STAGE} ({columns})")
            cursor = self.conn.connection.driver_connection.cursor()
            rows = ((line.kind, line.order_no, line.refund_no, line.amount_fen) for line in lines)
            while batch := list(islice(rows, BATCH)):
                cursor.executemany(f"INSERT INTO {STAGE} VALUES (?, ?, ?, ?)", batch)
                if on_progress:
                    on_progress(len(batch))
            if provider is not None:
                self._build_ours(provider, window)
            return
        for setting in (*_SETTINGS, f"max_parallel_workers_per_gather = {self._parallel_workers}"):
            self.conn.exec_driver_sql(f"SET LOCAL {setting}")
        self.conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {STAGE} ({columns}) ON COMMIT DROP")
        from psycopg.copy import Copy  # PostgreSQL's driver, not needed on SQLite

        from app.adapters.copy_spool import FollowedSpool

        driver = self.conn.connection.driver_connection
        # FREEZE: the table is this transaction's own, so its rows need no hint bits set by the first read
        copy_in = f"COPY {STAGE} (kind, order_no, refund_no, amount_fen) FROM STDIN WITH (FREEZE)"
        if provider is None:
            with driver.cursor().copy(copy_in) as copy:
                _write_rows(copy, lines, on_progress)
        else:
            failed: list[BaseException] = []
            spool = FollowedSpool(prefix="sbf-statement-")

            def build_then_copy() -> None:
                try:
                    self._build_ours(provider, window)
                    # then the COPY follows the spool: the server parses lines while the rest are read
                    with driver.cursor().copy(copy_in) as copy:
                        for block in spool.blocks(SPOOL_BLOCK):
                            copy.write(block)
                except BaseException as trouble:  # raised again in this thread below
                    failed.append(trouble)

            # the connection is the other thread's until it is joined: this one only reads and formats
            builder = threading.Thread(target=build_then_copy, name="reconciliation-ours", daemon=True)
            try:
                builder.start()
                try:
                    # psycopg's own COPY formatting, into the spool rather than onto the busy connection
                    with Copy(driver.cursor(), binary=False, writer=spool) as copy:
                        _write_rows(copy, lines, on_progress)
                except BaseException as trouble:
                    spool.finish(trouble)  # the other thread stops following rather than wait for more
                    raise
                finally:
                    builder.join()
            finally:
                spool.close()
            if failed:
                raise failed[0]
        # a temporary table is never analysed by autovacuum; the joins need its statistics
        self.conn.exec_driver_sql(f"ANALYZE {STAGE}")

    def _build_ours(self, provider: str, window: DayWindow) -> None:
        """Our side of the day as a temporary table (``_OURS_OF_DAY``), analysed."""
        if self._postgres:
            with self._settings(_SORTED_GROUPS):
                self.conn.execute(text(f"CREATE TEMPORARY TABLE {OURS} ON COMMIT DROP AS {_OURS_OF_DAY}")
                                  .bindparams(*_WINDOW),
                                  {"provider": provider, "start": window.start, "end": window.end})
            self.conn.exec_driver_sql(f"ANALYZE {OURS}")
        else:
            self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{OURS}")
            self.conn.execute(text(f"CREATE TEMPORARY TABLE {OURS} AS {_OURS_OF_DAY}").bindparams(*_WINDOW),
                              {"provider": provider, "start": window.start, "end": window.end})
        self._ours_of = (provider, window)

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

    def _query(self, sql: str, provider: str, window: DayWindow, settings: tuple[str, ...] = ()) -> list:
        statement = text(sql).bindparams(*_WINDOW) if ":start" in sql else text(sql)
        with self._settings(settings):
            return self.conn.execute(statement, {"provider": provider, "start": window.start, "end": window.end}).all()

    @contextmanager
    def _settings(self, settings: tuple[str, ...]) -> Iterator[None]:
        """PostgreSQL planner settings for one step of the transaction, back to the server's defaults after it
        (a failed step aborts the transaction, and its SET LOCAL with it)."""
        settings = settings if self._postgres else ()
        for setting in settings:
            self.conn.exec_driver_sql(f"SET LOCAL {setting}")
        yield
        for setting in settings:
            self.conn.exec_driver_sql(f"SET LOCAL {setting.split(' = ')[0]} TO DEFAULT")

    def order_comparisons(self, provider: str, window: DayWindow) -> Iterator[OrderComparison]:
        if self._ours_of != (provider, window):
            if self._postgres:
                self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {OURS}")
            self._build_ours(provider, window)
        bytes_, default = _BYTES[self.conn.dialect.name]
        sql = _ORDER_COMPARISONS.format(bytes=bytes_, default=default)
        for row in self._query(sql, provider, window, _SORTED_GROUPS):
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


def _write_rows(copy, lines: Iterable[StatementLine], on_progress: Callable[[int], None] | None) -> None:
    """Each line as a COPY row, formatted by psycopg in C (half the CPU of building the text in Python)."""
    write, done = copy.write_row, 0
    for line in lines:
        write((line.kind, line.order_no, line.refund_no, int(line.amount_fen)))
        done += 1
        if done == BATCH:
            if on_progress:
                on_progress(done)
            done = 0
    if done and on_progress:
        on_progress(done)


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
