"""Provider calls: every call the core makes to a provider, recorded before it is made.

A call is an intent with an idempotency key (the order number for prepay, query and close;
the refund number for a refund), so sending it again is safe: the providers recognise the
number. A worker runs due calls; each attempt is claimed first (``next_attempt_at`` moves
past a lease), so a worker killed mid-call leaves the call due again, never lost. An attempt
that learns nothing (UNKNOWN: timeout, 5xx) is tried again later, each wait longer; a call
that keeps failing, or a refusal no retry can cure, lands in the exceptions list, where an
operator sees it and may send it again. A call never disappears: it ends ``done`` or
``exception``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.domain.states import require_move

PREPAY, QUERY, CLOSE, REFUND = "prepay", "query", "close", "refund"
PAYOUT = "payout"  # a bank transfer to a payer's filed account (refund applications)
KINDS = (PREPAY, QUERY, CLOSE, REFUND, PAYOUT)
SEND, ASK = "send", "ask"  # a refund's two steps: send it, then ask how it stands

PENDING, DONE, EXCEPTION = "pending", "done", "exception"
CALL_MOVES = {
    PENDING: (DONE, EXCEPTION),
    EXCEPTION: (PENDING, DONE),  # an operator sends it again, or marks it resolved
}
CALL_STATE_LABELS = {PENDING: "处理中", DONE: "已完成", EXCEPTION: "异常，待人工处理"}


@dataclass(frozen=True)
class CallPolicy:
    """How long to wait between attempts, and when to give up and tell an operator."""

    first_wait_seconds: int = 30
    max_wait_seconds: int = 1800
    max_attempts: int = 12  # about four hours of doubling waits
    lease_seconds: int = 120  # a claimed attempt not finished by then is due again

    def wait_after(self, attempts: int) -> timedelta:
        """The wait after the n-th failed attempt: doubling from the first wait up to the cap."""
        return timedelta(seconds=min(self.first_wait_seconds * 2 ** max(attempts - 1, 0), self.max_wait_seconds))

    def wait_while_pending(self, age: timedelta) -> timedelta:
        """The wait before asking again about something the provider says is in progress (a refund
        on its way to a bank card may take days): a quarter of its age, between the first wait and the cap."""
        return timedelta(seconds=min(max(self.first_wait_seconds, age.total_seconds() / 4), self.max_wait_seconds))


@dataclass
class ProviderCall:
    kind: str
    provider: str
    key: str  # the idempotency key: order number or refund number
    order_no: str
    next_attempt_at: datetime
    created_at: datetime
    state: str = PENDING
    step: str | None = None  # a refund's step: SEND or ASK
    attempts: int = 0
    request: dict = field(default_factory=dict)  # what we send, as sent (amounts in fen)
    answer: dict | None = None  # the provider's last answer, as the adapter read it
    outcome: str | None = None  # SUCCESS / FAIL / WAITING / UNKNOWN / not_found / a reason
    last_error: str | None = None
    finished_at: datetime | None = None
    id: int | None = None
    read_state: str | None = field(default=None, repr=False, compare=False)
    read_attempts: int | None = field(default=None, repr=False, compare=False)

    def _move(self, new: str) -> None:
        require_move(CALL_MOVES, f"{self.kind} call {self.key}", self.state, new)
        self.state = new

    def note(self, outcome: str, answer: dict | None, error: str | None = None) -> None:
        """Keep what this attempt learned."""
        self.outcome, self.answer, self.last_error = outcome, answer, error

    def retry_later(self, now: datetime, policy: CallPolicy, step: str | None = None) -> None:
        """Nothing settled: try again after a longer wait, or give up when attempts run out."""
        if step:
            self.step = step
        if self.attempts >= policy.max_attempts:
            self.give_up(now, f"no answer after {self.attempts} attempts: {self.last_error or self.outcome}")
            return
        self.next_attempt_at = now + policy.wait_after(self.attempts)

    def again_at(self, at: datetime, step: str | None = None) -> None:
        """A planned next attempt (the next check of an open order, a refund to ask about)."""
        self.next_attempt_at = at
        if step:
            self.step = step

    def finish(self, now: datetime) -> None:
        self._move(DONE)
        self.finished_at = now

    def give_up(self, now: datetime, reason: str) -> None:
        """Into the exceptions list: an operator decides."""
        self._move(EXCEPTION)
        self.last_error = reason[:300]
        self.finished_at = now

    def send_again(self, now: datetime) -> None:
        """An operator re-arms it: due now, with a fresh count of attempts."""
        self._move(PENDING)
        self.attempts, self.next_attempt_at, self.finished_at = 0, now, None
        if self.kind == REFUND:
            self.step = SEND


def aware(moment: datetime | None, like: datetime) -> datetime | None:
    """A stored moment made comparable with ``like`` (SQLite hands times back without a zone,
    as the wall time they were written in, which is the clock's zone)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=like.tzinfo)
