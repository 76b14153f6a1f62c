"""The yearly bulk declaration (年度集中申报) of urban-rural residents (城乡居民) of a region.

At the start of a collection year the bureau creates the year's assessment of every enrolled,
active resident of a region in one run, instead of waiting for each person to declare.

What it prices — only what can be priced set-based, exactly as one person's declaration would:
  * medical (scheme ``fixed``): every eligible enrollment, at the policy's fixed amount;
  * pension (scheme ``grade``): only enrollments with a live grade choice in force in January of
    the year (a resident's grade holds for the whole year); the others are left for the person to
    choose and declare, and are counted as ``without_choice``.
The amounts, kind (正常缴费 / 补缴), period and subsidy come from ``plan_declaration`` run once
per price (once for a fixed amount, once per grade), so the bulk path and the per-person path
cannot drift apart. Eligible: category resident, status active, the region and insurance asked
for, enrolled no later than December of the year.

How it runs: in chunks of enrollments by id (keyset: the next ``chunk_size`` eligible ids), one
transaction per chunk that inserts the chunk's assessments set-based and moves the job's
progress row forward, so a crashed run resumes after the last committed chunk and two runs of
the same job never overlap. With ``workers`` > 1 the enrollments are dealt into that many
stripes (id modulo workers), each with its own progress row, run side by side on their own
connections — the database does the work, and on two cores two workers take about 40% off
the wall time (1M residents: 30 s → 18 s). Running it
again creates nothing new: the store skips every enrollment that already has a live assessment
for the period. Memory stays bounded: no row of a chunk ever comes into this process, only
counts.

On PostgreSQL, the first bulk job of a year whose assessments do not exist yet builds the year
apart: filled into a bare table of its own, then indexed, keyed and attached as the year's
partition of ``assessment`` (6–13 × cheaper than rows going one by one through the indexes and
foreign keys); see ``app/adapters/bulk_partition.py``. Its steps are phases of the job's progress
row, so a crash resumes in the step it was in; meanwhile a person declaring the year is told to
come back later. Otherwise (SQLite, a year with assessments already, a year attached) the job
goes row by row, as above.

Notice numbers (告知单号): one per enrollment, made by the store as region (6) + declaration
date (8) + the enrollment id zero-padded to 12 digits — 26 characters, so they can never equal
the 24-character random numbers of individual declarations.
"""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable, Mapping, Protocol

from app.domain.declaration import plan_declaration
from app.domain.errors import Conflict, InvalidInput
from app.domain.model import ContributionChoice, Enrollment
from app.domain.periods import Month
from app.domain.policy import INSURANCE_LABELS, PolicyBook
from app.services.ports import Clock

RESIDENT_INSURANCES = ("medical", "pension")
DEFAULT_CHUNK_SIZE = 50_000
MAX_WORKERS = 8
_REGION = re.compile(r"^\d{6}$")
_WINDOW_SHUT = ("collection_not_open", "collection_closed")
# a year built apart, step by step; the job's progress row holds the step it is at
CHECKING, FILLING, INDEXING, KEYING, ATTACHING, ATTACHED = "checking", "filling", "indexing", "keying", "attaching", \
    "attached"
BUILDING = (CHECKING, FILLING, INDEXING, KEYING, ATTACHING)
DEFAULT_HOLDS_YEAR = "default_holds_year"
YEAR_IN_BULK = ("year_in_bulk_declaration", "该年度正在集中申报，请稍后再试")


@dataclass(frozen=True)
class Price:
    """What one assessment costs, and what it records of how (base, rate, grade)."""

    amount_fen: int
    base_fen: int | None = None
    rate: str | None = None


@dataclass(frozen=True)
class YearPlan:
    """Everything the store needs to create a year's assessments of one insurance set-based."""

    job_key: str
    region: str
    insurance: str
    year: int
    period_start: date
    period_end: date
    kind: str  # regular / back
    subsidy_fen: int | None
    declared_at: datetime
    notice_prefix: str  # region (6) + declaration date (8); the store appends the enrollment id
    fixed: Price | None = None  # scheme fixed: one price for everyone
    grades: Mapping[str, Price] = field(default_factory=dict)  # scheme grade: price by the chosen grade

    @property
    def choice_month(self) -> str:
        """The month whose grade choice prices the year (a resident's grade holds for the year)."""
        return f"{self.year:04d}-01"

    @property
    def last_start_month(self) -> str:
        """Enrollments starting after the year are not billed for it."""
        return f"{self.year:04d}-12"


@dataclass(frozen=True)
class Stripe:
    """The enrollments whose id modulo ``count`` is ``index``; one stripe is all of them."""

    index: int = 0
    count: int = 1

    def job_key(self, plan: YearPlan) -> str:
        return plan.job_key if self.count == 1 else f"{plan.job_key}/{self.index + 1}of{self.count}"


@dataclass
class Progress:
    """A job's progress row: everything up to ``last_enrollment_id`` is done."""

    job_key: str
    last_enrollment_id: int = 0
    created_count: int = 0
    chunk_count: int = 0
    finished: bool = False
    phase: str | None = None  # a year built apart: the step it is at (see BUILDING)
    workers: int | None = None  # ... and the stripes it is filled in


class BulkDeclarations(Protocol):
    """The set-based store behind the bulk declaration. ``with store:`` is one transaction."""

    def __enter__(self) -> "BulkDeclarations": ...
    def __exit__(self, *exc) -> None: ...
    def commit(self) -> None: ...

    def progress(self, job_key: str, at: datetime) -> Progress:
        """The job's progress row, created at 0 when missing, locked until the transaction ends."""

    def restart(self, job_key: str, at: datetime) -> None:
        """Start a new pass from the first enrollment (the previous pass had finished)."""

    def count_eligible(self, plan: YearPlan, stripe: Stripe, after_id: int) -> int: ...

    def next_chunk(self, plan: YearPlan, stripe: Stripe, after_id: int, size: int) -> tuple[int, int] | None:
        """(last id, how many) of the stripe's next ``size`` eligible enrollments after ``after_id``; None when done."""

    def insert_assessments(self, plan: YearPlan, stripe: Stripe, after_id: int, upto_id: int) -> int:
        """Create the missing assessments of the stripe's eligible enrollments in (after_id, upto_id]; how many."""

    def fill_next_chunk(self, plan: YearPlan, stripe: Stripe, after_id: int, size: int,
                        into: str) -> tuple[int, int, int] | None:
        """A year built apart: the next chunk picked and filled into its table at once; (last id, how many, made)."""

    def save_progress(self, job_key: str, last_id: int, created: int, at: datetime, finished: bool = False) -> None: ...

    def count_declared(self, plan: YearPlan, built_apart: bool = False) -> tuple[int, int]:
        """(eligible enrollments, those of them with a live assessment for the year)."""

    def record(self, kind: str, subject: str, data: dict, at: datetime) -> None:
        """An audit event."""

    # -- a year built apart (PostgreSQL): each step is re-runnable, see app/adapters/bulk_partition.py --
    builds_apart: bool

    def save_phase(self, job_key: str, phase: str | None, at: datetime, workers: int | None = None) -> None: ...
    def year_state(self, year: int) -> str:
        """attached (a partition holds the year), building (its table exists, not attached), or none."""
    def exclude_year_from_default(self, year: int) -> None: ...
    def validate_year_excluded(self, year: int) -> bool:
        """False when the default partition holds rows of the year (the CHECK is dropped again)."""
    def create_year_table(self, year: int) -> str: ...
    def index_year(self, year: int) -> None: ...
    def key_year(self, year: int) -> None: ...
    def attach_year(self, year: int) -> None: ...
    def analyze_year(self, year: int) -> None: ...


def plan_year(region: str, year: int, insurance: str, policies: PolicyBook, clock: Clock) -> YearPlan:
    """Price a year of one resident insurance in a region, with the per-person declaration's rules."""
    if not _REGION.match(str(region)):
        raise InvalidInput("region_format", "统筹区代码应为6位数字，如520000", field="region")
    if insurance not in RESIDENT_INSURANCES:
        raise InvalidInput("insurance_unknown", "城乡居民集中申报仅支持基本养老保险和基本医疗保险", field="insurance")
    policy = policies.get(region, year, insurance, "resident")
    today, now = clock.today(), clock.now()
    probe = Enrollment(person_id=0, insurance=insurance, region=region, category="resident", insured_number="",
                       start_month=Month(year, 1), id=0)

    def price(choices: list[ContributionChoice]):
        [planned] = plan_declaration(probe, [str(year)], policies, choices, set(), today, notice_number="")
        return planned, Price(planned.amount_fen, planned.base_fen, planned.rate)

    if policy.scheme == "fixed":
        planned, fixed = price([])
        grades = {}
    elif policy.scheme == "grade":
        fixed, grades = None, {}
        for grade in policy.grades:
            planned, grades[grade.code] = price([ContributionChoice(enrollment_id=0, effective_month=Month(year, 1),
                                                                    grade_code=grade.code, id=0)])
    else:
        raise InvalidInput("bulk_scheme_unsupported", "该险种按缴费基数缴费，不能集中申报", field="insurance")
    return YearPlan(job_key=f"declare_year:{region}:{year}:{insurance}", region=region, insurance=insurance,
                    year=year, period_start=planned.period_start, period_end=planned.period_end, kind=planned.kind,
                    subsidy_fen=planned.subsidy_fen, declared_at=now, notice_prefix=f"{region}{today:%Y%m%d}",
                    fixed=fixed, grades=grades)


def declare_resident_year(region: str, year: int, stores: Callable[[], BulkDeclarations], policies: PolicyBook,
                          clock: Clock, insurance: str | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE,
                          workers: int = 1, on_start: Callable[[str, int], None] | None = None,
                          on_chunk: Callable[[int], None] | None = None) -> dict:
    """Create the year's assessments of every eligible resident of a region, for one insurance or for
    every resident insurance whose collection window is open today (the others are reported as skipped).

    ``stores()`` gives a store (one connection) per worker. ``on_start(insurance, enrollments to go)`` and
    ``on_chunk(enrollments done)`` drive a progress bar; they are called from one thread at a time.
    """
    if chunk_size < 1:
        raise InvalidInput("chunk_size_invalid", "每批数量应为正整数", field="chunk_size")
    if not 1 <= workers <= MAX_WORKERS:
        raise InvalidInput("workers_invalid", f"并行数应在1至{MAX_WORKERS}之间", field="workers")
    plans, shut = [], []
    if insurance is not None:
        plans.append(plan_year(str(region), year, insurance, policies, clock))
    else:  # every resident insurance of the year whose collection window is open today
        for code in [i for i in RESIDENT_INSURANCES if policies.find(str(region), year, i, "resident")] or ["medical"]:
            try:
                plans.append(plan_year(str(region), year, code, policies, clock))
            except InvalidInput as closed:
                if closed.code not in _WINDOW_SHUT:
                    raise
                shut.append((code, closed))
        if not plans:
            raise shut[0][1]
    skipped = [{"insurance": code, "code": err.code, "message": err.message} for code, err in shut]
    # every insurance is priced before the first write, so a refusal leaves nothing behind
    return {"region": str(region), "year": year, "skipped": skipped,
            "results": [_run(plan, stores, clock, chunk_size, workers, on_start, on_chunk) for plan in plans]}


def _run(plan: YearPlan, stores: Callable[[], BulkDeclarations], clock: Clock, chunk_size: int, workers: int,
         on_start: Callable[[str, int], None] | None, on_chunk: Callable[[int], None] | None) -> dict:
    stripes = [Stripe(i, workers) for i in range(workers)]
    store = stores()
    phase, into, not_apart = _begin_apart(plan, store, clock, stripes)
    starts = {}
    with store:
        for stripe in stripes:
            progress = store.progress(stripe.job_key(plan), clock.now())
            # a new pass picks up residents enrolled since and skips the declared; a year being
            # built apart never starts its fill again (its rows are in the year's table already)
            if progress.finished and not phase:
                store.restart(stripe.job_key(plan), clock.now())
                progress = Progress(stripe.job_key(plan))
            starts[stripe] = progress.last_enrollment_id
        to_go = 0 if phase not in (None, FILLING) else sum(store.count_eligible(plan, stripe, after)
                                                           for stripe, after in starts.items())
        store.commit()
    if on_start:
        on_start(plan.insurance, to_go)
    lock = threading.Lock()

    def done(size: int) -> None:
        if on_chunk:
            with lock:
                on_chunk(size)

    if phase not in (None, FILLING):
        created = 0  # filled by the run that crashed; its count is in the progress rows
    elif workers == 1:
        created = _run_stripe(plan, stripes[0], store, clock, chunk_size, done, into)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bulk-declaration") as pool:
            futures = [pool.submit(_run_stripe, plan, stripe, stores(), clock, chunk_size, done, into)
                       for stripe in stripes]
            created = sum(f.result() for f in futures)  # the first failure is raised once all have stopped
    if phase:
        _finish_apart(plan, store, clock)
    with store:
        eligible, declared = store.count_declared(plan, built_apart=phase is not None)
        resumed = [after for after in starts.values() if after]
        summary = {"insurance": plan.insurance, "insurance_label": INSURANCE_LABELS[plan.insurance],
                   "period": str(plan.year), "kind": plan.kind, "created": created, "eligible": eligible,
                   "declared": declared, "without_choice": eligible - declared, "workers": workers,
                   "resumed_from_enrollment_id": min(resumed) if resumed else None,
                   "built_apart": phase is not None, "not_built_apart": not_apart}
        store.record("declaration.bulk_year", f"region:{plan.region}",
                     {"year": plan.year, "insurance": plan.insurance, "created": created, "eligible": eligible,
                      "declared": declared, "built_apart": phase is not None, "not_built_apart": not_apart},
                     clock.now())
        store.commit()
    return summary


def _begin_apart(plan: YearPlan, store: BulkDeclarations, clock: Clock,
                 stripes: list[Stripe]) -> tuple[str | None, str | None, str | None]:
    """Whether the year is built apart: (the step to go on from, or None for the row-by-row way; the
    year's table; why not).

    Only on PostgreSQL and only while no partition holds the year: once attached, a run finds the
    year's rows the row-by-row way and creates nothing. A year another job is building is refused.
    """
    if not store.builds_apart:
        return None, None, None
    with store:
        progress = store.progress(plan.job_key, clock.now())  # locked: one run of the job at a time
        # a job that stopped while checking owns nothing yet: another job may have built the year since
        state, mine = store.year_state(plan.year), progress.phase in BUILDING[1:]
        if state == "attached":
            if mine:  # attached by a run that stopped before noting it
                store.attach_year(plan.year)
                store.save_phase(plan.job_key, ATTACHED, clock.now())
                store.commit()
            return None, None, None
        if state == "building":
            if not mine:
                raise Conflict(*YEAR_IN_BULK, field="year")
            if progress.phase == FILLING and progress.workers != len(stripes):
                # other stripes would fill again what the first ones did: nothing in a bare table stops a twin
                raise InvalidInput("bulk_workers_changed",
                                   f"该年度集中申报尚未完成，请以相同的并行数（{progress.workers}）继续", field="workers")
            return progress.phase, store.create_year_table(plan.year), None
        store.exclude_year_from_default(plan.year)
        store.save_phase(plan.job_key, CHECKING, clock.now())
        store.commit()  # the CHECK, NOT VALID, holds for new rows from here on
        if not store.validate_year_excluded(plan.year):  # the default holds rows of the year
            store.save_phase(plan.job_key, DEFAULT_HOLDS_YEAR, clock.now())
            store.commit()
            return None, None, DEFAULT_HOLDS_YEAR
        if store.year_state(plan.year) != "none":  # another job of the year began building it meanwhile
            raise Conflict(*YEAR_IN_BULK, field="year")
        into = store.create_year_table(plan.year)
        for stripe in stripes:  # the fill starts from the first enrollment, whatever an earlier pass did
            store.progress(stripe.job_key(plan), clock.now())
            store.restart(stripe.job_key(plan), clock.now())
        store.save_phase(plan.job_key, FILLING, clock.now(), workers=len(stripes))
        store.commit()
    return FILLING, into, None


def _finish_apart(plan: YearPlan, store: BulkDeclarations, clock: Clock) -> None:
    """Index, key and attach the filled year: one step and its phase per transaction, under the job's row lock."""
    steps = ((INDEXING, store.index_year, KEYING), (KEYING, store.key_year, ATTACHING),
             (ATTACHING, store.attach_year, ATTACHED))
    with store:
        for name, run, after in steps:
            phase = store.progress(plan.job_key, clock.now()).phase
            if phase not in BUILDING:  # another run of the job got there first
                break
            if BUILDING.index(phase) <= BUILDING.index(name):
                run(plan.year)
                store.save_phase(plan.job_key, after, clock.now())
            store.commit()
        store.analyze_year(plan.year)
        store.commit()


def _run_stripe(plan: YearPlan, stripe: Stripe, store: BulkDeclarations, clock: Clock, chunk_size: int,
                done: Callable[[int], None], into: str | None = None) -> int:
    """Chunk after chunk, each with its progress in one transaction; returns how many were created."""
    job_key, created = stripe.job_key(plan), 0
    while True:
        with store:
            # re-read under the row lock: another run of the same job may have moved on meanwhile
            after = store.progress(job_key, clock.now()).last_enrollment_id
            if into:
                chunk = store.fill_next_chunk(plan, stripe, after, chunk_size, into)
            else:
                chunk = store.next_chunk(plan, stripe, after, chunk_size)
            if chunk is None:
                store.save_progress(job_key, after, 0, clock.now(), finished=True)
                store.commit()
                return created
            if into:
                upto, size, made = chunk
            else:
                upto, size = chunk
                made = store.insert_assessments(plan, stripe, after, upto)
            store.save_progress(job_key, upto, made, clock.now())
            store.commit()
        created += made
        done(size)
