"""Batch debit (统一扣款): one run per region and due date, resumable at every step.

    collecting → collected → sent → done          (and → rejected when the bank refuses the file)

1. **Collect** (in chunks, progress saved with each chunk): the region's declared, unpaid,
   regular or back assessments due by the date, of insured persons with an active agreement
   whose 自动缴费 is on; for flexible workers only under a base marked 允许用于批扣 (seed 002).
   Special assessments never (seed 001). Each becomes a line and an order of its own, held by
   the same compare-and-set as any order (declared_unpaid → paying), so it cannot be paid twice
   by another channel meanwhile. A line's key (also its order number and the bank's request
   id) is due date + assessment: running the day again, or the bank seeing it twice, debits once.
2. **Write and send** the request file (streamed), counted against the batch. The bank answers
   a file id it has seen as the first time; a refused file releases every line.
3. **Fetch and read** the result file: trusted only whole (trailer counts, sums, MAC), then
   settled in chunks, each line by compare-and-set (sent → succeeded / failed): successes are
   posted (assessment paid, e-ticket, order posted), failures close their order and leave the
   assessment declared with the bank's reason for the payer. Lines still processing (PR) stay
   sent for the next run; a line nobody sent is logged for an operator and changes nothing.
A result file lost, late, refused or received twice leaves the batch ``sent`` for the next
run (``last_error`` shows why); nothing is posted twice and nothing is forgotten.
"""
from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from app.domain.periods import Month
from app.domain.policy import INSURANCE_LABELS
from payments.bank import RESULT_CODES, BadBankFile, BatchLine, DebitBank, ResultLine
from payments.base import ResultState

log = logging.getLogger(__name__)

COLLECTING, COLLECTED, SENT, DONE, REJECTED = "collecting", "collected", "sent", "done", "rejected"
DEFAULT_CHUNK = 20_000
DUPLICATE_FILE_ID = "DUPLICATE_FILE_ID"


@dataclass
class Batch:
    id: int
    batch_key: str
    file_id: str
    region: str
    due_date: date
    state: str
    line_count: int = 0
    sum_fen: int = 0
    collected_through: int = 0
    succeeded_count: int = 0
    succeeded_fen: int = 0
    failed_count: int = 0
    pending_count: int = 0
    attempts: int = 0
    last_error: str | None = None


@dataclass
class Settled:
    """What one chunk of results did."""

    succeeded: int = 0
    succeeded_fen: int = 0
    failed: int = 0
    already: int = 0  # lines settled before (the same result read again)
    pending: int = 0  # still processing at the bank (PR)
    unknown: int = 0  # lines we never sent
    mismatched: int = 0  # our line, another amount: left for an operator


class BatchStore(Protocol):
    """Set-based storage of a batch run; ``with store:`` is one transaction."""

    def __enter__(self) -> "BatchStore": ...
    def __exit__(self, *exc) -> None: ...
    def commit(self) -> None: ...
    def open_batch(self, region: str, due_date: date, file_id: str, now: datetime) -> Batch:
        """The day's batch, created on first use, locked for this transaction."""
    def collect_chunk(self, batch: Batch, chunk_size: int, now: datetime) -> int:
        """Collect the next chunk of due assessments into lines and orders; 0 when none are left."""
    def lines(self, batch: Batch) -> Iterator[BatchLine]:
        """The batch's lines in file order, streamed."""
    def save(self, batch: Batch, now: datetime) -> None: ...
    def settle(self, batch: Batch, results: list[ResultLine], now: datetime) -> Settled:
        """Settle a chunk of result lines, each at most once."""
    def release_all(self, batch: Batch, reason: str, now: datetime) -> int:
        """The bank refused the file: close every open line's order and free its assessment."""
    def count_pending(self, batch: Batch) -> int: ...
    def unfinished(self) -> list[tuple[str, date]]:
        """(region, due date) of batches not yet done or rejected."""
    def lines_for_persons(self, person_ids: list[int], limit: int = 100) -> list[dict]: ...


@dataclass(frozen=True)
class BatchSettings:
    file_dir: Path
    chunk_size: int = DEFAULT_CHUNK


def run_batch_debit(region: str, due_date: date, store: Callable[[], BatchStore], bank: DebitBank, clock,
                    settings: BatchSettings, on_progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Run (or resume) the batch of a region and due date as far as it can go now."""
    progress = on_progress or (lambda stage, done, total: None)
    file_id = f"{bank.bank_code.upper()}{region}{due_date:%Y%m%d}"
    settings.file_dir.mkdir(parents=True, exist_ok=True)
    with store() as s:
        batch = s.open_batch(region, due_date, file_id, clock.now())
        s.commit()
    if batch.state == COLLECTING:
        batch = _collect(batch, store, clock, settings, progress)
    if batch.state == COLLECTED:
        batch = _send(batch, store, bank, clock, settings, progress)
    if batch.state == SENT:
        batch = _receive(batch, store, bank, clock, settings, progress)
    return report(batch)


def _collect(batch: Batch, store, clock, settings: BatchSettings, progress) -> Batch:
    while True:
        with store() as s:
            batch = s.open_batch(batch.region, batch.due_date, batch.file_id, clock.now())
            if batch.state != COLLECTING:
                return batch
            if s.collect_chunk(batch, settings.chunk_size, clock.now()) == 0:
                batch.state = COLLECTED
            s.save(batch, clock.now())
            s.commit()
        progress("collect", batch.line_count, 0)
        if batch.state == COLLECTED:
            return batch


def _send(batch: Batch, store, bank: DebitBank, clock, settings: BatchSettings, progress) -> Batch:
    path = settings.file_dir / f"{batch.file_id}.req"
    with store() as s:
        count, total = bank.write_batch_file(path, batch.file_id, batch.due_date, clock.now(), s.lines(batch))
    if (count, total) != (batch.line_count, batch.sum_fen):  # the file must say what the batch holds
        raise RuntimeError(f"batch {batch.file_id}: file has {count}/{total}, batch {batch.line_count}/{batch.sum_fen}")
    progress("write", count, count)
    receipt = bank.send_batch(batch.file_id, path) if count else None
    with store() as s:
        batch = s.open_batch(batch.region, batch.due_date, batch.file_id, clock.now())
        if batch.state != COLLECTED:
            return batch
        batch.attempts += 1
        if receipt is None:
            batch.state, batch.last_error = DONE, None  # nothing due: nothing to send
        elif receipt.state == ResultState.SUCCESS or receipt.code == DUPLICATE_FILE_ID:
            # a file id the bank already holds (another run sent it first): its result file decides
            batch.state, batch.pending_count = SENT, batch.line_count
            batch.last_error = None if receipt.state == ResultState.SUCCESS else "银行已有该文件号的扣款文件"
        elif receipt.state == ResultState.FAIL:
            s.release_all(batch, f"bank_refused:{receipt.code}", clock.now())
            batch.state, batch.last_error = REJECTED, f"银行拒收扣款文件：{receipt.code} {receipt.message or ''}"
            log.error("batch %s refused by the bank: %s %s", batch.file_id, receipt.code, receipt.message)
        else:  # unknown: sending again is safe, the bank knows the file id
            batch.last_error = f"发送扣款文件未获应答：{receipt.message}"[:300]
        s.save(batch, clock.now())
        s.commit()
    return batch


def _receive(batch: Batch, store, bank: DebitBank, clock, settings: BatchSettings, progress) -> Batch:
    path = settings.file_dir / f"{batch.file_id}.res"
    fetched = bank.fetch_batch_result(batch.file_id, path)
    if fetched.state != ResultState.SUCCESS:
        return _note(batch, store, clock, f"回盘文件未取得：{fetched.code or ''} {fetched.message or ''}")
    try:
        results = bank.read_result_file(path, batch.file_id)
    except BadBankFile as bad:
        log.error("batch %s: result file refused: %s", batch.file_id, bad)
        path.rename(path.with_suffix(f".bad{batch.attempts}"))  # kept for the operator
        return _note(batch, store, clock, f"回盘文件校验未通过：{bad.code}")
    total = Settled()
    done = 0
    for chunk in _chunks(results, settings.chunk_size):
        with store() as s:
            batch = s.open_batch(batch.region, batch.due_date, batch.file_id, clock.now())
            settled = s.settle(batch, _dated_by_our_clock(chunk, clock.now()), clock.now())
            batch.succeeded_count += settled.succeeded
            batch.succeeded_fen += settled.succeeded_fen
            batch.failed_count += settled.failed
            s.save(batch, clock.now())
            s.commit()
        for name in vars(total):
            setattr(total, name, getattr(total, name) + getattr(settled, name))
        done += len(chunk)
        progress("settle", done, batch.line_count)
    with store() as s:
        batch = s.open_batch(batch.region, batch.due_date, batch.file_id, clock.now())
        batch.pending_count = s.count_pending(batch)
        problems = [f"{n} {label}" for n, label in ((total.unknown, "笔未知明细"), (total.mismatched, "笔金额不符"))
                    if n]
        batch.last_error = ("回盘文件含" + "、".join(problems)) if problems else None
        if batch.pending_count == 0:
            batch.state = DONE
        s.save(batch, clock.now())
        s.commit()
    return batch


def _note(batch: Batch, store, clock, error: str) -> Batch:
    with store() as s:
        batch = s.open_batch(batch.region, batch.due_date, batch.file_id, clock.now())
        batch.attempts += 1
        batch.last_error = error[:300]
        s.save(batch, clock.now())
        s.commit()
    return batch


def _dated_by_our_clock(lines: list[ResultLine], now: datetime) -> list[ResultLine]:
    """A fee is paid when the bank took the money (its ``debited_at``), never later than we learn of it:
    a bank clock running ahead is taken as now."""
    return [replace(line, debited_at=now) if line.debited_at and line.debited_at > now else line for line in lines]


def _chunks(lines: Iterable[ResultLine], size: int) -> Iterator[list[ResultLine]]:
    iterator = iter(lines)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def resume_unfinished(store: Callable[[], BatchStore], bank: DebitBank, clock, settings: BatchSettings) -> list[dict]:
    """The follow-up job: take every batch not done a step further (fetch late results, resend)."""
    with store() as s:
        open_batches = s.unfinished()
    return [run_batch_debit(region, day, store, bank, clock, settings) for region, day in open_batches]


LINE_LABELS = {"sent": "银行扣款中", "succeeded": "扣款成功", "failed": "扣款未成功"}


def batch_results_for(person_ids: list[int], store: Callable[[], BatchStore]) -> list[dict]:
    """统一扣款结果 for the identified persons: what was debited, and why not when it was not."""
    with store() as s:
        rows = s.lines_for_persons(person_ids)
    out = []
    for r in rows:
        start, end = Month.of(r["period_start"]), Month.of(r["period_end"])
        reason = None
        if r["state"] == "failed":
            reason = RESULT_CODES.get(r["result_code"] or "", r["reason"]) if r["result_code"] != "FILE" \
                else "银行未受理本批扣款，请选择其他方式缴费"
        out.append({"due_date": r["due_date"].isoformat(), "order_no": r["line_key"], "amount_fen": r["amount_fen"],
                    "insurance_label": INSURANCE_LABELS.get(r["insurance"], r["insurance"]),
                    "period": str(start) if start == end else f"{start}至{end}", "state": r["state"],
                    "state_label": LINE_LABELS[r["state"]], "reason": reason})
    return out


def report(batch: Batch) -> dict:
    return {"file_id": batch.file_id, "region": batch.region, "due_date": batch.due_date.isoformat(),
            "state": batch.state, "lines": batch.line_count, "sum_fen": batch.sum_fen,
            "succeeded": batch.succeeded_count, "succeeded_fen": batch.succeeded_fen, "failed": batch.failed_count,
            "pending": batch.pending_count, "attempts": batch.attempts, "last_error": batch.last_error}
