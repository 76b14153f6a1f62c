"""Reconciliation (对账) of one day and one provider: statement ↔ our payments and refunds ↔ assessments.

Load the provider's statement into the book (streamed, never held as a whole), let the book
match it with our orders and refunds set-based, classify what it hands back with the domain's
rules, and record the run's totals and every difference in one transaction. Re-runnable: the
same day again finds the same differences under the same keys and writes nothing new; a
difference stays until an operator resolves it (``resolve_difference``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable, Iterable, Iterator, Mapping, Protocol, Sized

from app.domain import reconciliation as rules
from app.domain.certificates import shanghai_date
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.reconciliation import (DayWindow, Difference, OrderComparison, RefundComparison, Totals)
from app.services.ports import Clock
from payments.base import StatementLine, StatementUnavailable

log = logging.getLogger(__name__)

DONE, UNAVAILABLE = "done", "unavailable"
RETRY_UNAVAILABLE_DAYS = 7  # the daily run also retries days whose statement could not be had


@dataclass(frozen=True)
class RunRecord:
    """A run of one (day, provider) as stored: both sides' totals and how many differences."""

    day: date
    provider: str
    state: str
    statement: Totals
    ours: Totals
    difference_count: int
    started_at: datetime
    finished_at: datetime
    error: str | None = None
    id: int | None = None

    def same_result(self, other: "RunRecord") -> bool:
        return (self.state, self.statement, self.ours, self.difference_count, self.error) == \
            (other.state, other.statement, other.ours, other.difference_count, other.error)


@dataclass(frozen=True)
class StoredDifference:
    """A recorded difference with its resolution, for the back office."""

    id: int
    day: date
    provider: str
    kind: str
    order_no: str | None
    refund_no: str | None
    provider_amount_fen: int | None
    our_amount_fen: int | None
    detail: str
    found_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution_note: str | None = None


@dataclass
class RunReport:
    """What one call of ``reconcile_day`` did."""

    run: RunRecord
    differences: list[Difference] = field(default_factory=list)
    new_differences: int = 0
    run_written: bool = False


class ReconciliationBook(Protocol):
    """The store reconciliation works on; ``with book:`` is one transaction."""

    def __enter__(self) -> "ReconciliationBook": ...
    def __exit__(self, *exc) -> None: ...
    def commit(self) -> None: ...
    def load_statement(self, lines: Iterable[StatementLine], on_progress: Callable[[int], None] | None,
                       provider: str | None = None, window: DayWindow | None = None) -> None:
        """Stage the statement lines for matching (COPY where the database has it); given the provider
        and day, the book may prepare its own side of the day meanwhile."""
    def statement_totals(self) -> Totals: ...
    def our_totals(self, provider: str, window: DayWindow) -> Totals: ...
    def order_comparisons(self, provider: str, window: DayWindow) -> Iterator[OrderComparison]:
        """Every order number of the day that is not plainly in agreement on all three ways."""
    def refund_comparisons(self, provider: str, window: DayWindow) -> Iterator[RefundComparison]:
        """Every refund number of the day that is not plainly in agreement."""
    def run(self, day: date, provider: str) -> RunRecord | None: ...
    def save_run(self, run: RunRecord) -> int:
        """Insert or replace the (day, provider) run; its id."""
    def add_differences(self, run_id: int, day: date, provider: str, differences: list[Difference],
                        at: datetime) -> int:
        """Record the differences not recorded yet (by key); how many were new."""
    def runs(self, day: date | None, provider: str | None, limit: int) -> list[RunRecord]: ...
    def differences(self, day: date | None, provider: str | None, kind: str | None, unresolved_only: bool,
                    after_id: int, limit: int) -> list[StoredDifference]: ...
    def resolve(self, difference_id: int, operator: str, note: str, at: datetime) -> bool:
        """Compare-and-set: resolve an unresolved difference; False when there is none such."""
    def difference(self, difference_id: int) -> StoredDifference | None: ...
    def unavailable_days(self, provider: str, since: date) -> list[date]: ...


def reconcile_day(day: date, provider_code: str, providers: Mapping[str, object],
                  book_factory: Callable[[], ReconciliationBook], clock: Clock,
                  on_progress: Callable[[int, int | None], None] | None = None,
                  statement: Iterable[StatementLine] | None = None) -> RunReport:
    """Reconcile one Asia/Shanghai day of one provider; re-running it records nothing new.

    ``statement`` replaces the provider's ``statement(day)`` when the lines come from elsewhere
    (a bank file, a benchmark's stream); otherwise the provider is asked. ``on_progress(lines
    staged since the last call, all lines or None when streamed)`` drives a progress bar.
    """
    provider = providers.get(provider_code)
    if provider is None:
        raise InvalidInput("unknown_provider", f"没有名为{provider_code}的支付渠道", field="provider")
    if day >= shanghai_date(clock.now()):
        raise InvalidInput("day_not_over", "只能对已结束的日期对账", field="day")
    started = clock.now()
    window = DayWindow.of(day)
    try:
        lines = provider.statement(day) if statement is None else statement
    except StatementUnavailable as trouble:
        log.warning("reconciliation %s %s: statement unavailable: %s", provider_code, day, trouble)
        return _record_unavailable(day, provider_code, str(trouble)[:300], book_factory, started, clock)
    total = len(lines) if isinstance(lines, Sized) else None
    with book_factory() as book:
        book.load_statement(lines, None if on_progress is None else lambda done: on_progress(done, total),
                            provider_code, window)
        differences = [d for row in book.order_comparisons(provider_code, window) for d in rules.order_differences(row)]
        differences += [d for row in book.refund_comparisons(provider_code, window)
                        for d in rules.refund_differences(row)]
        run = RunRecord(day, provider_code, DONE, book.statement_totals(), book.our_totals(provider_code, window),
                        len(differences), started, clock.now())
        report = _save(book, run, differences, clock)
        book.commit()
    log.info("reconciliation %s %s: %d differences (%d new)", provider_code, day, len(differences),
             report.new_differences)
    return report


def _save(book: ReconciliationBook, run: RunRecord, differences: list[Difference], clock: Clock) -> RunReport:
    known = book.run(run.day, run.provider)
    written = known is None or not known.same_result(run)
    run_id = book.save_run(run) if written else known.id
    new = book.add_differences(run_id, run.day, run.provider, differences, clock.now())
    return RunReport(run if written else known, differences, new, written)


def _record_unavailable(day: date, provider_code: str, error: str, book_factory, started: datetime,
                        clock: Clock) -> RunReport:
    run = RunRecord(day, provider_code, UNAVAILABLE, Totals(), Totals(), 0, started, clock.now(), error=error)
    with book_factory() as book:
        known = book.run(day, provider_code)
        if known is not None and known.state == DONE:
            return RunReport(known)  # a day once reconciled keeps its result; trouble now changes nothing
        report = _save(book, run, [], clock)
        book.commit()
    return report


def days_to_reconcile(provider_code: str, book_factory: Callable[[], ReconciliationBook], clock: Clock) -> list[date]:
    """Yesterday, and the days of the last week whose statement could not be had."""
    yesterday = shanghai_date(clock.now()) - timedelta(days=1)
    with book_factory() as book:
        retry = book.unavailable_days(provider_code, yesterday - timedelta(days=RETRY_UNAVAILABLE_DAYS))
    return sorted(set(retry) | {yesterday})


def list_runs(day: date | None, provider: str | None, book_factory: Callable[[], ReconciliationBook],
              limit: int = 100) -> list[RunRecord]:
    """The runs of a day and/or provider, newest day first."""
    with book_factory() as book:
        return book.runs(day, provider, limit)


def list_differences(book_factory: Callable[[], ReconciliationBook], day: date | None = None,
                     provider: str | None = None, kind: str | None = None, unresolved_only: bool = False,
                     after_id: int = 0, limit: int = 100) -> list[StoredDifference]:
    """Recorded differences, oldest first, paged by id."""
    if kind is not None and kind not in rules.KINDS:
        raise InvalidInput("unknown_difference_kind", "差异类型不存在", field="kind")
    with book_factory() as book:
        return book.differences(day, provider, kind, unresolved_only, after_id, limit)


def resolve_difference(difference_id: int, operator: str, note: str,
                       book_factory: Callable[[], ReconciliationBook], clock: Clock) -> StoredDifference:
    """An operator closes a difference with a note; a resolved one stays as it was resolved."""
    operator, note = (operator or "").strip(), (note or "").strip()
    if not operator or len(operator) > 64:
        raise InvalidInput("operator_required", "请填写处理人（不超过64个字符）", field="operator")
    if not note or len(note) > 500:
        raise InvalidInput("note_required", "请填写处理说明（不超过500个字符）", field="note")
    with book_factory() as book:
        if not book.resolve(difference_id, operator, note, clock.now()):
            if book.difference(difference_id) is None:
                raise NotFound("difference_not_found", "对账差异不存在")
            raise Conflict("difference_already_resolved", "该对账差异已处理")
        book.commit()
        return book.difference(difference_id)
