"""The set-based SQL of batch debit (统一扣款): collect, stream the file's lines, settle results.

Per chunk, a handful of statements over id arrays (``= ANY(:ids)`` on PostgreSQL, ``IN`` on
SQLite) instead of a Python loop of rows: the assessments move declared_unpaid → paying by
compare-and-set and only those that moved get an order, an order item and a line, built by
INSERT … SELECT. Results go into a temporary table (COPY on PostgreSQL) and are settled by
UPDATE … FROM with ``state = 'sent'`` in the WHERE: a line is settled once, a result read
twice matches nothing. A success does what settlement's posting does for one order — order
paying → posted with the bank's transaction number, assessment paying → paid, one payment row
with an e-ticket number from the same serial as every other payment (``e_ticket_serial``; a
number taken is skipped and drawn again) — a failure closes the order and frees the assessment.

The batch row is locked (``FOR UPDATE`` on PostgreSQL) and saved in the same transaction as
each chunk, so a crash repeats nothing and loses nothing. Chunk transactions commit with
``synchronous_commit = off``, as the bulk declaration does: a commit lost with the database
itself is redone by the next run, which finds the lines still ``sent``.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Iterator

from sqlalchemy import (BigInteger, Column, MetaData, String, Table, and_, any_, bindparam, case, cast, func,
                        insert, literal, select, text, true, update)
from sqlalchemy.dialects import postgresql, sqlite

from app.adapters import tables as t
from app.adapters.connection_scope import OneConnection
from app.adapters.order_repository import SqlOrders
from app.adapters.utc_datetime import UtcDateTime
from app.domain.model import DECLARED_UNPAID, PAID, PAYING
from app.domain.orders import e_ticket_prefix
from app.services.batch_debit import COLLECTING, DONE, REJECTED, Batch, Settled
from payments.bank import BatchLine, ResultLine

SENT, SUCCEEDED, FAILED = "sent", "succeeded", "failed"
BATCH_CHANNEL, METHOD = "batch", "batch"
EXPIRY_DAYS = 7  # a batch order stays open for the bank's results (the re-query job must not close it)

_results = Table("batch_result", MetaData(), Column("line_key", String(32)), Column("code", String(8)),
                 Column("txn", String(40)), Column("message", String(100)), Column("amount_fen", BigInteger),
                 Column("debited_at", UtcDateTime()))
_RESULT_DDL = ("CREATE TEMPORARY TABLE IF NOT EXISTS batch_result (line_key VARCHAR(32), code VARCHAR(8), "
               "txn VARCHAR(40), message VARCHAR(100), amount_fen BIGINT, debited_at TIMESTAMP WITH TIME ZONE)")

# PostgreSQL's collect: candidates → assessments moved by compare-and-set → their orders, items and lines
_COLLECT_SQL = """
WITH cand AS (
    SELECT a.id, a.person_id, a.amount_fen, ag.id AS agreement_id, ag.agreement_no
    FROM assessment a
    JOIN enrollment e ON e.id = a.enrollment_id
    JOIN debit_agreement ag ON ag.person_id = a.person_id AND ag.auto_pay AND ag.state = 'active'
    LEFT JOIN contribution_choice c ON c.id = a.choice_id
    WHERE a.region = :region AND a.id > :after AND a.state = 'declared_unpaid' AND a.kind IN ('regular', 'back')
      AND a.period_start <= :due AND (e.category <> 'flexible' OR coalesce(c.batch_debit_allowed, false))
    ORDER BY a.id LIMIT :chunk
), moved AS (
    UPDATE assessment a SET state = 'paying' FROM cand
    WHERE a.id = cand.id AND a.state = 'declared_unpaid'
    RETURNING a.id, cand.person_id, cand.amount_fen, cand.agreement_id, cand.agreement_no
), orders AS (
    INSERT INTO payment_order (order_no, channel, provider, method, amount_fen, state, description, provider_ref,
                               payer_person_id, created_at, expires_at, version)
    SELECT :prefix || m.id, 'batch', 'agreement', 'batch', m.amount_fen, 'paying', '社保费统一扣款', m.agreement_no,
           m.person_id, :now, :expires, 0
    FROM moved m
    RETURNING id, order_no, CAST(substr(order_no, :cut) AS bigint) AS assessment_id, payer_person_id, amount_fen,
              provider_ref
), items AS (
    INSERT INTO order_item (order_id, assessment_id, assessment_period_start, person_id, amount_fen, live)
    SELECT o.id, o.assessment_id, (SELECT a.period_start FROM assessment a WHERE a.id = o.assessment_id),
           o.payer_person_id, o.amount_fen, true
    FROM orders o
), lines AS (
    INSERT INTO debit_batch_line (batch_id, line_key, assessment_id, assessment_period_start, order_id, person_id,
                                  agreement_id, agreement_no, amount_fen, state)
    SELECT :batch, o.order_no, o.assessment_id, (SELECT a.period_start FROM assessment a WHERE a.id = o.assessment_id),
           o.id, o.payer_person_id, ag.id, o.provider_ref, o.amount_fen, 'sent'
    FROM orders o
    JOIN debit_agreement ag ON ag.person_id = o.payer_person_id AND ag.auto_pay AND ag.state = 'active'
    ORDER BY o.assessment_id
)
SELECT (SELECT count(*) FROM cand) AS scanned, (SELECT max(id) FROM cand) AS last_id,
       (SELECT count(*) FROM moved) AS moved, (SELECT coalesce(sum(amount_fen), 0) FROM moved) AS moved_fen
"""

# PostgreSQL's posting of debited lines: orders paying → posted, assessments paid, a payment each
_POST_SQL = """
WITH ok AS (
    SELECT id, order_id, assessment_id, bank_txn_no, settled_at
    FROM debit_batch_line WHERE id = ANY(CAST(:ids AS bigint[]))
), posted AS (
    UPDATE payment_order o SET state = 'posted', paid_at = ok.settled_at, posted_at = :now,
                               provider_trade_no = ok.bank_txn_no, version = o.version + 1
    FROM ok WHERE o.id = ok.order_id AND o.state = 'paying'
    RETURNING o.id, o.amount_fen, ok.id AS line_id, ok.assessment_id, ok.settled_at
), paid AS (
    UPDATE assessment a SET state = 'paid', paid_at = p.settled_at FROM posted p
    WHERE a.id = p.assessment_id AND a.state = 'paying'
    RETURNING a.id, a.period_start, p.id AS order_id, p.amount_fen
), payments AS (
    INSERT INTO payment (order_id, assessment_id, assessment_period_start, e_ticket_number, amount_fen, posted_at)
    SELECT paid.order_id, paid.id, paid.period_start,
           :prefix || lpad((nextval('e_ticket_serial') % 10000000)::text, 7, '0'),
           paid.amount_fen, :now
    FROM paid
    ON CONFLICT (e_ticket_number) DO NOTHING
    RETURNING 1
)
SELECT count(*) AS posted, coalesce(sum(amount_fen), 0) AS posted_fen, (SELECT count(*) FROM payments) AS tickets
FROM posted
"""

_BATCH_FIELDS = ("state", "line_count", "sum_fen", "collected_through", "succeeded_count", "succeeded_fen",
                 "failed_count", "pending_count", "attempts", "last_error")


class SqlBatchDebits(OneConnection):
    """A batch run's store on one connection; ``with store:`` is one transaction."""

    def _begun(self) -> None:
        if self._postgres:
            self.conn.execute(text("SET LOCAL synchronous_commit TO off"))
            # no JIT: each chunk's statements are estimated far above jit_above_cost (the lookups are
            # forced to index probes), and compiling them cost more than running them
            self.conn.execute(text("SET LOCAL jit TO off"))

    @property
    def _postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def _ids(self, column, ids: list[int]):
        if self._postgres:
            return column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(BigInteger)))
        return column.in_(list(ids))

    # -- the batch row ---------------------------------------------------------------------

    def open_batch(self, region: str, due_date: date, file_id: str, now: datetime) -> Batch:
        key = f"{region}:{due_date:%Y%m%d}"
        query = select(t.debit_batch).where(t.debit_batch.c.batch_key == key)
        if self._postgres:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        if row is None:
            values = dict(batch_key=key, file_id=file_id, region=region, due_date=due_date, state=COLLECTING,
                          line_count=0, sum_fen=0, collected_through=0, posted_through=0, succeeded_count=0,
                          succeeded_fen=0, failed_count=0, pending_count=0, attempts=0, created_at=now, updated_at=now)
            dialect = postgresql if self._postgres else sqlite
            self.conn.execute(dialect.insert(t.debit_batch).values(**values).on_conflict_do_nothing())
            row = self.conn.execute(query).first()
        return Batch(id=row.id, batch_key=row.batch_key, file_id=row.file_id, region=row.region,
                     due_date=row.due_date, **{f: getattr(row, f) for f in _BATCH_FIELDS})

    def save(self, batch: Batch, now: datetime) -> None:
        done = now if batch.state in (DONE, REJECTED) else None
        self.conn.execute(update(t.debit_batch).where(t.debit_batch.c.id == batch.id).values(
            updated_at=now, finished_at=done, **{f: getattr(batch, f) for f in _BATCH_FIELDS}))

    def unfinished(self) -> list[tuple[str, date]]:
        rows = self.conn.execute(select(t.debit_batch.c.region, t.debit_batch.c.due_date).where(
            t.debit_batch.c.state.not_in((DONE, REJECTED))).order_by(t.debit_batch.c.id))
        return [(r.region, r.due_date) for r in rows]

    # -- collecting ------------------------------------------------------------------------

    def _order_no(self, a, due_date: date):
        return literal("D" + f"{due_date:%Y%m%d}" + "A") + cast(a.c.id, String)

    def collect_chunk(self, batch: Batch, chunk_size: int, now: datetime) -> int:
        if self._postgres:
            return self._collect_in_one_statement(batch, chunk_size, now)
        a, e, ag, c = t.assessment, t.enrollment, t.debit_agreement, t.contribution_choice
        agreement_join = and_(ag.c.person_id == a.c.person_id, ag.c.auto_pay == true(), ag.c.state == "active")
        candidates = self.conn.execute(
            select(a.c.id, a.c.amount_fen).select_from(
                a.join(e, e.c.id == a.c.enrollment_id).join(ag, agreement_join)
                .outerjoin(c, c.c.id == a.c.choice_id))
            .where(a.c.region == batch.region, a.c.id > batch.collected_through, a.c.state == DECLARED_UNPAID,
                   a.c.kind.in_(("regular", "back")), a.c.period_start <= batch.due_date,
                   (e.c.category != "flexible") | (func.coalesce(c.c.batch_debit_allowed, False) == true()))
            .order_by(a.c.id).limit(chunk_size)).all()
        if not candidates:
            return 0
        moved = [r.id for r in self.conn.execute(
            update(a).where(self._ids(a.c.id, [r.id for r in candidates]), a.c.state == DECLARED_UNPAID)
            .values(state=PAYING).returning(a.c.id))]
        if moved:
            self._create_orders_and_lines(batch, moved, now)
        amounts = {r.id: r.amount_fen for r in candidates}
        batch.collected_through = candidates[-1].id
        batch.line_count += len(moved)
        batch.sum_fen += sum(amounts[i] for i in moved)
        return len(candidates)

    def _collect_in_one_statement(self, batch: Batch, chunk_size: int, now: datetime) -> int:
        """PostgreSQL: the same as the portable path, as one statement of data-modifying CTEs.

        The rows travel from CTE to CTE (RETURNING) instead of being found again by id arrays and
        order numbers; foreign keys are checked at the end of the statement, as always.
        """
        # one chunk (thousands of rows) of tables holding millions: index lookups only. Left to itself the
        # planner hashes all of debit_agreement, enrollment and contribution_choice for each chunk before
        # its LIMIT, which makes a day's run grow with the square of its size. Joins between the CTEs
        # are avoided by carrying what the next step needs (the assessment id in the order number; its
        # period start, for the foreign key, looked up by that id): with hash joins off, a join of two
        # CTEs is a nested loop over both, a chunk squared.
        self.conn.execute(text("SET LOCAL enable_hashjoin TO off"))
        self.conn.execute(text("SET LOCAL enable_mergejoin TO off"))
        row = self._collect_statement(batch, chunk_size, now)
        self.conn.execute(text("SET LOCAL enable_hashjoin TO on"))  # settling keeps the planner's own choice
        self.conn.execute(text("SET LOCAL enable_mergejoin TO on"))
        if row.scanned:
            batch.collected_through = row.last_id
            batch.line_count += row.moved
            batch.sum_fen += row.moved_fen
        else:  # the day's lines are all written: settling plans on their statistics, not on an empty table's
            self.conn.execute(text("ANALYZE debit_batch_line"))
        return row.scanned

    def _collect_statement(self, batch: Batch, chunk_size: int, now: datetime):
        return self.conn.execute(text(_COLLECT_SQL), {
            "region": batch.region, "after": batch.collected_through, "due": batch.due_date, "chunk": chunk_size,
            "prefix": f"D{batch.due_date:%Y%m%d}A", "cut": len(f"D{batch.due_date:%Y%m%d}A") + 1, "now": now,
            "expires": self._expires(batch, now), "batch": batch.id}).one()

    @staticmethod
    def _expires(batch: Batch, now: datetime) -> datetime:
        return max(datetime.combine(batch.due_date, now.timetz()), now) + timedelta(days=EXPIRY_DAYS)

    def _create_orders_and_lines(self, batch: Batch, moved: list[int], now: datetime) -> None:
        a, ag, o = t.assessment, t.debit_agreement, t.payment_order
        order_no = self._order_no(a, batch.due_date)
        agreement_join = and_(ag.c.person_id == a.c.person_id, ag.c.auto_pay == true(), ag.c.state == "active")
        self.conn.execute(insert(o).from_select(
            ["order_no", "channel", "provider", "method", "amount_fen", "state", "description", "provider_ref",
             "payer_person_id", "created_at", "expires_at", "version"],
            select(order_no, literal(BATCH_CHANNEL), literal("agreement"), literal(METHOD), a.c.amount_fen,
                   literal(PAYING), literal("社保费统一扣款"), ag.c.agreement_no, a.c.person_id, literal(now),
                   literal(self._expires(batch, now)), literal(0))
            .select_from(a.join(ag, agreement_join)).where(self._ids(a.c.id, moved))))
        joined = a.join(o, o.c.order_no == order_no)
        self.conn.execute(insert(t.order_item).from_select(
            ["order_id", "assessment_id", "assessment_period_start", "person_id", "amount_fen", "live"],
            select(o.c.id, a.c.id, a.c.period_start, a.c.person_id, a.c.amount_fen, true()).select_from(joined)
            .where(self._ids(a.c.id, moved))))
        self.conn.execute(insert(t.debit_batch_line).from_select(
            ["batch_id", "line_key", "assessment_id", "assessment_period_start", "order_id", "person_id",
             "agreement_id", "agreement_no", "amount_fen", "state"],
            select(literal(batch.id), o.c.order_no, a.c.id, a.c.period_start, o.c.id, a.c.person_id, ag.c.id,
                   ag.c.agreement_no, a.c.amount_fen, literal(SENT))
            .select_from(joined.join(ag, agreement_join)).where(self._ids(a.c.id, moved)).order_by(a.c.id)))

    def lines(self, batch: Batch) -> Iterator[BatchLine]:
        line = t.debit_batch_line
        rows = self.conn.execution_options(yield_per=10_000).execute(
            select(line.c.line_key, line.c.agreement_no, line.c.amount_fen).where(line.c.batch_id == batch.id)
            .order_by(line.c.id))
        for seq, r in enumerate(rows, start=1):
            yield BatchLine(seq, r.line_key, r.agreement_no, r.amount_fen, "社保费")

    def count_pending(self, batch: Batch) -> int:
        line = t.debit_batch_line
        return self.conn.execute(select(func.count()).select_from(line).where(
            line.c.batch_id == batch.id, line.c.state == SENT)).scalar_one()

    # -- settling --------------------------------------------------------------------------

    def _load_results(self, results: list[ResultLine]) -> None:
        """The chunk's result lines into a temporary table."""
        self.conn.execute(text(_RESULT_DDL))
        self.conn.execute(_results.delete())
        rows = [(r.line_key, r.code, r.bank_txn_no, r.message[:100], r.amount_fen, r.debited_at) for r in results]
        if self._postgres:
            cursor = self.conn.connection.driver_connection.cursor()
            with cursor.copy("COPY batch_result (line_key, code, txn, message, amount_fen, debited_at) "
                             "FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            names = ("line_key", "code", "txn", "message", "amount_fen", "debited_at")
            self.conn.execute(insert(_results), [dict(zip(names, row)) for row in rows])

    def settle(self, batch: Batch, results: list[ResultLine], now: datetime) -> Settled:
        line, r = t.debit_batch_line, _results
        self._load_results(results)
        ours = and_(line.c.line_key == r.c.line_key, line.c.batch_id == batch.id)
        if self._postgres:
            # the chunk's lines found through their unique keys: joined on the batch alone, every chunk
            # hashed all the day's lines, and a million-line day settled in a time growing with its square
            keys = bindparam(None, [x.line_key for x in results], type_=postgresql.ARRAY(String))
            ours = and_(ours, line.c.line_key == any_(keys))
        counts = Settled(pending=sum(1 for x in results if x.code == "PR"))
        unknown = [k for (k,) in self.conn.execute(
            select(r.c.line_key).select_from(r.outerjoin(line, ours)).where(line.c.id.is_(None)))]
        counts.unknown = len(unknown)
        counts.mismatched = self.conn.execute(select(func.count()).select_from(r.join(line, ours)).where(
            line.c.amount_fen != r.c.amount_fen)).scalar_one()
        counts.already = self.conn.execute(select(func.count()).select_from(r.join(line, ours)).where(
            line.c.state != SENT, line.c.amount_fen == r.c.amount_fen)).scalar_one()
        settled = self.conn.execute(
            update(line).where(ours, line.c.state == SENT, r.c.code != "PR", line.c.amount_fen == r.c.amount_fen)
            .values(state=case((r.c.code == "00", SUCCEEDED), else_=FAILED), result_code=r.c.code,
                    bank_txn_no=r.c.txn, reason=r.c.message, settled_at=func.coalesce(r.c.debited_at, now))
            .returning(line.c.id, line.c.state)).all()
        ok = [x.id for x in settled if x.state == SUCCEEDED]
        failed = [x.id for x in settled if x.state == FAILED]
        counts.succeeded, counts.succeeded_fen = self._post(batch, ok, now)
        self._record_unpostable(batch, ok, now)
        counts.failed = self._close(failed, now)
        for key in unknown[:50]:
            self.conn.execute(insert(t.notification_log).values(
                provider="agreement", order_no=key, outcome="unknown_line", detail=f"batch {batch.file_id}",
                received_at=now))
        self.conn.execute(insert(t.audit_event).values(
            kind="batch_debit.settled", subject=f"batch:{batch.file_id}", at=now,
            data={"succeeded": counts.succeeded, "failed": counts.failed, "pending": counts.pending,
                  "unknown": counts.unknown, "mismatched": counts.mismatched, "already": counts.already}))
        return counts

    def _post(self, batch: Batch, line_ids: list[int], now: datetime) -> tuple[int, int]:
        """Debited lines: their orders paying → posted (once), assessments paid, one payment each."""
        if not line_ids:
            return 0, 0
        if self._postgres:
            # every line of a batch is of its region (collected by it): one e-ticket prefix, the domain's
            prefix = e_ticket_prefix(batch.region, f"{now:%y%m%d}")
            row = self.conn.execute(text(_POST_SQL), {"ids": line_ids, "now": now, "prefix": prefix}).one()
            if row.tickets < row.posted:
                self._draw_missing_tickets(line_ids, now)
            return row.posted, row.posted_fen
        line, o, a = t.debit_batch_line, t.payment_order, t.assessment
        posted = self.conn.execute(
            update(o).where(line.c.order_id == o.c.id, self._ids(line.c.id, line_ids), o.c.state == PAYING)
            .values(state="posted", paid_at=line.c.settled_at, posted_at=now, provider_trade_no=line.c.bank_txn_no,
                    version=o.c.version + 1)
            .returning(o.c.id, o.c.amount_fen)).all()
        if not posted:
            return 0, 0
        order_ids = [p.id for p in posted]
        in_orders = self._ids(line.c.order_id, order_ids)
        self.conn.execute(update(a).where(a.c.id == line.c.assessment_id, in_orders, a.c.state == PAYING)
                          .values(state=PAID, paid_at=line.c.settled_at))
        orders = SqlOrders(self.conn)
        for r in self.conn.execute(select(line.c.order_id, line.c.assessment_id, a.c.region, line.c.amount_fen)
                                   .join(a, a.c.id == line.c.assessment_id).where(in_orders)).all():
            orders.add_payments(r.order_id, [(r.assessment_id, r.region, r.amount_fen)], now)
        return len(posted), sum(p.amount_fen for p in posted)

    def _draw_missing_tickets(self, line_ids: list[int], now: datetime) -> None:
        """A number already taken (the 7-digit serial wrapped within a region's day) was skipped by
        ON CONFLICT: draw again for the posted lines still without a payment, as add_payments does."""
        line, o, a, p = t.debit_batch_line, t.payment_order, t.assessment, t.payment
        missing = self.conn.execute(
            select(line.c.order_id, line.c.assessment_id, a.c.region, line.c.amount_fen)
            .join(a, a.c.id == line.c.assessment_id).join(o, o.c.id == line.c.order_id)
            .outerjoin(p, p.c.assessment_id == line.c.assessment_id)
            .where(self._ids(line.c.id, line_ids), o.c.state == "posted", p.c.id.is_(None))).all()
        orders = SqlOrders(self.conn)
        for r in missing:
            orders.add_payments(r.order_id, [(r.assessment_id, r.region, r.amount_fen)], now)

    def _record_unpostable(self, batch: Batch, line_ids: list[int], now: datetime) -> None:
        """Debited lines whose order is neither posted now nor before: money taken, not posted — an exception.

        The provider's query keeps unsent batch lines WAITING, so no re-query closes them: this
        should find nothing, and when it does an operator must see it (扣款成功但缴费失败)."""
        if not line_ids:
            return
        line, o = t.debit_batch_line, t.payment_order
        for key, state in self.conn.execute(select(line.c.line_key, o.c.state).join(o, o.c.id == line.c.order_id)
                                            .where(self._ids(line.c.id, line_ids), o.c.state != "posted")):
            self.conn.execute(insert(t.notification_log).values(
                provider="agreement", order_no=key, outcome="debited_not_posted",
                detail=f"batch {batch.file_id}: order {state}", received_at=now))
            self.conn.execute(insert(t.audit_event).values(
                kind="batch_debit.debited_not_posted", subject=f"order:{key}", data={"order_state": state}, at=now))

    def _close(self, line_ids: list[int], now: datetime) -> int:
        """Refused lines: their orders close with the bank's code; the assessments are payable again."""
        if not line_ids:
            return 0
        line, o, a = t.debit_batch_line, t.payment_order, t.assessment
        closed = [x.id for x in self.conn.execute(
            update(o).where(line.c.order_id == o.c.id, self._ids(line.c.id, line_ids), o.c.state == PAYING)
            .values(state="closed", closed_at=now, failure_reason=literal("bank:") + line.c.result_code,
                    version=o.c.version + 1)
            .returning(o.c.id))]
        if closed:
            self.conn.execute(update(t.order_item).where(self._ids(t.order_item.c.order_id, closed),
                                                         t.order_item.c.live == true()).values(live=False))
            self.conn.execute(update(a).where(a.c.id == line.c.assessment_id, self._ids(line.c.order_id, closed),
                                              a.c.state == PAYING).values(state=DECLARED_UNPAID))
        return len(closed)

    def release_all(self, batch: Batch, reason: str, now: datetime) -> int:
        line = t.debit_batch_line
        ids = [x.id for x in self.conn.execute(
            update(line).where(line.c.batch_id == batch.id, line.c.state == SENT)
            .values(state=FAILED, result_code="FILE", reason=reason[:100], settled_at=now).returning(line.c.id))]
        return self._close(ids, now)

    # -- what a payer sees -----------------------------------------------------------------

    def lines_for_persons(self, person_ids: list[int], limit: int = 100) -> list[dict]:
        line, b, a = t.debit_batch_line, t.debit_batch, t.assessment
        rows = self.conn.execute(
            select(b.c.due_date, line.c.person_id, line.c.amount_fen, line.c.state, line.c.result_code, line.c.reason,
                   line.c.line_key, a.c.insurance, a.c.period_start, a.c.period_end)
            .select_from(line.join(b, b.c.id == line.c.batch_id).join(a, a.c.id == line.c.assessment_id))
            .where(self._ids(line.c.person_id, person_ids)).order_by(line.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]
