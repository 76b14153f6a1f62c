"""The insured person, their enrollments, contribution choices and assessments.

Plain classes: the adapters map them to tables from the outside. State changes of an
assessment are compare-and-set in the repositories, set-based (a whole order's assessments in
one statement); every move is checked against ``ASSESSMENT_MOVES`` first (``check_move``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from app.domain.errors import Conflict
from app.domain.periods import Month
from app.domain.states import require_move

# assessment states (DESIGN.md state machine)
DECLARED_UNPAID = "declared_unpaid"
PAYING = "paying"
PAID = "paid"
VOIDED = "voided"
REFUNDED = "refunded"
LIVE_STATES = (DECLARED_UNPAID, PAYING, PAID)
ASSESSMENT_MOVES = {
    DECLARED_UNPAID: (PAYING, VOIDED, PAID),
    PAYING: (DECLARED_UNPAID, PAID),
    PAID: (REFUNDED,),
}

# the seeds' three per-period states (缴费情况), and a declaration partly paid
UNDECLARED_UNPAID = "undeclared_unpaid"
PARTLY_PAID = "partly_paid"

# One vocabulary (GLOSSARY.md) for every answer and page: 未缴费 / 未支付 / 已缴纳, and the rest.
STATE_LABELS = {UNDECLARED_UNPAID: "未缴费", DECLARED_UNPAID: "未支付", PAYING: "支付中", PAID: "已缴纳",
                VOIDED: "已作废", REFUNDED: "已退费", PARTLY_PAID: "部分已缴纳"}
# per period the seeds know three states only: a period being paid is still 未支付 until the money is posted
PERIOD_STATUS_LABELS = {s: STATE_LABELS[s] for s in (UNDECLARED_UNPAID, DECLARED_UNPAID, PAID)} | {
    PAYING: STATE_LABELS[DECLARED_UNPAID]}
KIND_LABELS = {"regular": "正常缴费", "back": "补缴", "special": "特殊缴费"}


@dataclass
class Person:
    id_type: str
    id_number: str
    name: str
    phone: str | None = None
    id: int | None = None


@dataclass
class Enrollment:
    person_id: int
    insurance: str
    region: str
    category: str
    insured_number: str
    start_month: Month
    status: str = "active"  # active / suspended / terminated
    source_bureau: str = "hr"  # hr (人社) or medical (医保)
    id: int | None = None

    @property
    def is_active(self) -> bool:
        return self.status == "active"


@dataclass
class ContributionChoice:
    enrollment_id: int
    effective_month: Month
    base_fen: int | None = None
    grade_code: str | None = None
    batch_debit_allowed: bool = False
    created_at: datetime | None = None
    voided_at: datetime | None = None
    id: int | None = None

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


def choice_exists(month: Month) -> Conflict:
    """A live choice from that month is already there (found first, or lost to at the same moment)."""
    return Conflict("choice_exists", f"{month}起已有有效的缴费基数或档次，请先作废后再重新选择", field="effective_month")


def choice_for(choices: list[ContributionChoice], month: Month) -> ContributionChoice | None:
    """The live choice in force for a month: the latest effective month not after it."""
    live = [c for c in choices if not c.is_voided and c.effective_month <= month]
    return max(live, key=lambda c: (c.effective_month, c.id or 0), default=None)


@dataclass
class Assessment:
    enrollment_id: int | None
    person_id: int | None
    insurance: str
    region: str
    period_start: date
    period_end: date
    amount_fen: int
    kind: str  # regular / back / special
    notice_number: str
    state: str = DECLARED_UNPAID
    base_fen: int | None = None
    rate: str | None = None
    grade_code: str | None = None
    choice_id: int | None = None
    subsidy_fen: int | None = None
    reason: str | None = None
    declared_at: datetime | None = None
    paid_at: datetime | None = None
    employer_id: int | None = None
    id: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def period_label(self) -> str:
        if self.period_start.month == 1 and self.period_end.month == 12 and self.period_start.year == self.period_end.year:
            return f"{self.period_start.year}"
        start, end = Month.of(self.period_start), Month.of(self.period_end)
        return str(start) if start == end else f"{start}至{end}"


def can_move(current: str, new: str) -> bool:
    return new in ASSESSMENT_MOVES.get(current, ())


def check_move(current: str, new: str) -> None:
    """Raise ``IllegalMove`` unless an assessment may move ``current`` → ``new``."""
    require_move(ASSESSMENT_MOVES, "assessment", current, new)
