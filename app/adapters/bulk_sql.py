"""The set-based SQL of the yearly bulk declaration: INSERT … SELECT over a chunk of enrollment ids.

One statement per chunk creates every missing assessment of the chunk inside PostgreSQL (or
SQLite for the zero-setup run); no row travels through Python. Idempotent twice over:
a per-row probe of ``uq_assessment_live_period`` skips enrollments that already have a live
regular/back assessment for the period, and ``ON CONFLICT DO NOTHING`` lets that partial unique
index settle a race with a person declaring the same year at the same moment. The progress row
is locked (``FOR UPDATE`` on PostgreSQL; SQLite has one writer anyway)
and moved in the same transaction as the chunk's rows, so a crash loses nothing and repeats
nothing. Chunk transactions on PostgreSQL commit with ``synchronous_commit = off``: a commit
lost in a crash of the database itself is redone by the next run, because its progress went
with it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, Date, Integer, String, and_, case, cast, column, func, literal, select, table,
                        text, true, update)
from sqlalchemy.dialects import postgresql, sqlite

from app.adapters import tables as t
from app.adapters.bulk_partition import YearApart, year_table
from app.adapters.connection_scope import OneConnection
from app.adapters.utc_datetime import UtcDateTime
from app.domain.model import DECLARED_UNPAID, LIVE_STATES
from app.services.bulk_declaration import Progress, Stripe, YearPlan

NOTICE_ID_DIGITS = 12


class SqlBulkDeclarations(YearApart, OneConnection):
    """The bulk declaration's store on one connection; ``with store:`` is one transaction."""

    @property
    def builds_apart(self) -> bool:
        """Whether a year can be built apart and attached (PostgreSQL's partitions; SQLite has none)."""
        return self._postgres

    def _begun(self) -> None:
        if self._postgres:  # every chunk's transaction: a crash loses at most the last chunks, which a resume redoes
            self.conn.execute(text("SET LOCAL synchronous_commit TO off"))

    def _typed(self, value, type_):
        """A bound value with its SQL type spelled out: PostgreSQL cannot guess the type of a NULL in a
        SELECT list. SQLite gets it bare (its CAST to DATE would turn a date into a number)."""
        bound = literal(value, type_)
        return cast(bound, type_) if self._postgres else bound

    # -- progress --------------------------------------------------------------------------

    def progress(self, job_key: str, at: datetime) -> Progress:
        p = t.bulk_progress
        insert = (postgresql.insert if self._postgres else sqlite.insert)(p)
        self.conn.execute(insert.values(job_key=job_key, last_enrollment_id=0, created_count=0, chunk_count=0,
                                        started_at=at, updated_at=at).on_conflict_do_nothing())
        row = self.conn.execute(select(p).where(p.c.job_key == job_key).with_for_update()).one()
        return Progress(job_key=job_key, last_enrollment_id=row.last_enrollment_id, created_count=row.created_count,
                        chunk_count=row.chunk_count, finished=row.finished_at is not None, phase=row.phase,
                        workers=row.workers)

    def save_phase(self, job_key: str, phase: str | None, at: datetime, workers: int | None = None) -> None:
        values = {"phase": phase, "updated_at": at} | ({"workers": workers} if workers else {})
        self.conn.execute(update(t.bulk_progress).where(t.bulk_progress.c.job_key == job_key).values(**values))

    def restart(self, job_key: str, at: datetime) -> None:
        self.conn.execute(update(t.bulk_progress).where(t.bulk_progress.c.job_key == job_key).values(
            last_enrollment_id=0, created_count=0, chunk_count=0, started_at=at, updated_at=at, finished_at=None))

    def save_progress(self, job_key: str, last_id: int, created: int, at: datetime, finished: bool = False) -> None:
        p = t.bulk_progress
        values = dict(last_enrollment_id=last_id, created_count=p.c.created_count + created, updated_at=at)
        if finished:
            values["finished_at"] = at
        else:
            values["chunk_count"] = p.c.chunk_count + 1
        self.conn.execute(update(p).where(p.c.job_key == job_key).values(**values))

    # -- the enrollments ---------------------------------------------------------------------

    @staticmethod
    def _eligible(plan: YearPlan, stripe: Stripe = Stripe()):
        e = t.enrollment
        where = and_(e.c.region == plan.region, e.c.category == "resident", e.c.insurance == plan.insurance,
                     e.c.status == "active", e.c.start_month <= plan.last_start_month)
        return where if stripe.count == 1 else and_(where, e.c.id % stripe.count == stripe.index)

    def count_eligible(self, plan: YearPlan, stripe: Stripe, after_id: int) -> int:
        e = t.enrollment
        return self.conn.execute(select(func.count()).select_from(e)
                                 .where(self._eligible(plan, stripe), e.c.id > after_id)).scalar_one()

    def next_chunk(self, plan: YearPlan, stripe: Stripe, after_id: int, size: int) -> tuple[int, int] | None:
        e = t.enrollment
        ids = (select(e.c.id).where(self._eligible(plan, stripe), e.c.id > after_id).order_by(e.c.id).limit(size)
               .subquery())
        last, count = self.conn.execute(select(func.max(ids.c.id), func.count()).select_from(ids)).one()
        return None if last is None else (last, count)

    def _live(self, plan: YearPlan, enrollment_id):
        """The id of the enrollment's live regular/back assessment for the period, as a per-row subquery."""
        a = t.assessment.alias("live")
        return (select(a.c.id).where(a.c.enrollment_id == enrollment_id,
                                     a.c.period_start == self._typed(plan.period_start, Date),
                                     a.c.state.in_(LIVE_STATES), a.c.kind != "special")
                .limit(1).scalar_subquery())

    def count_declared(self, plan: YearPlan, built_apart: bool = False) -> tuple[int, int]:
        e = t.enrollment
        if built_apart:
            # the year's partition holds this job's rows and, since it was attached, the region's own
            # declarations of the year: one scan of it, instead of a probe per enrollment (4 s at 1M)
            eligible = self.conn.execute(select(func.count()).select_from(e).where(self._eligible(plan))).scalar_one()
            done = self.conn.execute(select(func.count()).select_from(table(year_table(plan.year))).where(
                column("region") == plan.region, column("insurance") == plan.insurance,
                column("period_start") == self._typed(plan.period_start, Date),
                column("state").in_(LIVE_STATES), column("kind") != "special")).scalar_one()
            return eligible, done
        declared = case((self._live(plan, e.c.id).is_not(None), 1), else_=0)
        eligible, done = self.conn.execute(select(func.count(), func.coalesce(func.sum(declared), 0))
                                           .select_from(e).where(self._eligible(plan))).one()
        return eligible, int(done)

    # -- the assessments -------------------------------------------------------------------

    def _notice_number(self, plan: YearPlan, enrollment_id):
        if self._postgres:
            padded = func.lpad(cast(enrollment_id, String), NOTICE_ID_DIGITS, "0")
        else:
            padded = func.printf(f"%0{NOTICE_ID_DIGITS}d", enrollment_id)
        return literal(plan.notice_prefix, String) + padded

    def _in_force(self, plan: YearPlan, enrollment_id, column):
        """A column of the grade choice in force in January: the latest live one effective then or before."""
        k = t.contribution_choice.alias("in_force")
        return (select(k.c[column]).where(k.c.enrollment_id == enrollment_id, k.c.voided_at.is_(None),
                                          k.c.effective_month <= plan.choice_month)
                .order_by(k.c.effective_month.desc(), k.c.id.desc()).limit(1).scalar_subquery())

    def _chunk(self, plan: YearPlan, stripe: Stripe, *where):
        """The enrollments to declare, with the grade choice in force where the year is priced by grade."""
        e = t.enrollment
        # Every lookup is a correlated scalar subquery — one index probe per enrollment — never a join:
        # the planner's statistics lag behind a table this job is filling, and a join planned on them
        # (a nested loop over a "1-row" slice that holds 25 000) goes quadratic. Probes stay linear.
        return (select(e.c.id, e.c.person_id, e.c.insurance, e.c.region,
                       self._in_force(plan, e.c.id, "id").label("choice_id") if plan.grades
                       else self._typed(None, Integer).label("choice_id"),
                       self._in_force(plan, e.c.id, "grade_code").label("grade_code") if plan.grades
                       else self._typed(None, String).label("grade_code"))
                .where(self._eligible(plan, stripe), *where))

    def _rows(self, plan: YearPlan, chunk) -> tuple[list[str], object]:
        """(assessment columns, the SELECT of the chunk's assessments at the plan's prices)."""
        x = chunk.c
        if plan.fixed is not None:
            where = []
            amount = self._typed(plan.fixed.amount_fen, BigInteger)
            base, rate = self._typed(plan.fixed.base_fen, BigInteger), self._typed(plan.fixed.rate, String)
        else:
            where = [x.grade_code.in_(list(plan.grades))]

            def by_grade(attr, type_):
                return case({code: self._typed(getattr(price, attr), type_) for code, price in plan.grades.items()},
                            value=x.grade_code)

            amount, base, rate = by_grade("amount_fen", BigInteger), by_grade("base_fen", BigInteger), \
                by_grade("rate", String)
        columns = {
            "enrollment_id": x.id, "person_id": x.person_id, "insurance": x.insurance, "region": x.region,
            "period_start": self._typed(plan.period_start, Date), "period_end": self._typed(plan.period_end, Date),
            "amount_fen": amount, "kind": self._typed(plan.kind, String),
            "notice_number": self._notice_number(plan, x.id), "state": self._typed(DECLARED_UNPAID, String),
            "base_fen": base, "rate": rate, "grade_code": x.grade_code, "choice_id": x.choice_id,
            "subsidy_fen": self._typed(plan.subsidy_fen, BigInteger),
            "declared_at": self._typed(plan.declared_at, UtcDateTime()),
        }
        # SQLite needs a WHERE before ON CONFLICT in an INSERT … SELECT (its parser would read a join's ON)
        return list(columns), select(*columns.values()).select_from(chunk).where(*where or [true()])

    def insert_assessments(self, plan: YearPlan, stripe: Stripe, after_id: int, upto_id: int) -> int:
        e = t.enrollment
        chunk = self._chunk(plan, stripe, e.c.id > after_id, e.c.id <= upto_id,
                            self._live(plan, e.c.id).is_(None)).subquery("chunk")
        columns, rows = self._rows(plan, chunk)
        insert = (postgresql.insert if self._postgres else sqlite.insert)(t.assessment)
        statement = insert.from_select(columns, rows).on_conflict_do_nothing()
        # the driver's row count of an INSERT … SELECT, kept for us (SQLAlchemy drops it for inserts otherwise)
        return self.conn.execute(statement.execution_options(preserve_rowcount=True)).rowcount

    def fill_next_chunk(self, plan: YearPlan, stripe: Stripe, after_id: int, size: int,
                        into: str) -> tuple[int, int, int] | None:
        """Into a year's own table (built apart): the stripe's next ``size`` eligible enrollments picked and
        their assessments inserted in one statement, one pass over the enrollments instead of two.

        No probe for a live assessment and no ON CONFLICT: no row of the year exists anywhere else, and
        the chunks never overlap (each commits with its progress)."""
        e = t.enrollment
        chunk = self._chunk(plan, stripe, e.c.id > after_id).order_by(e.c.id).limit(size).cte("chunk")
        columns, rows = self._rows(plan, chunk)
        made = (postgresql.insert(table(into, *[column(c.name) for c in t.assessment.c]))
                .from_select(columns, rows).returning(literal(1)).cte("made"))
        last, count, created = self.conn.execute(
            select(func.max(chunk.c.id), func.count(), select(func.count()).select_from(made).scalar_subquery())
            .select_from(chunk)).one()
        return None if last is None else (last, count, created)

    def record(self, kind: str, subject: str, data: dict, at: datetime) -> None:
        self.conn.execute(t.audit_event.insert().values(kind=kind, subject=subject, data=data, at=at))
