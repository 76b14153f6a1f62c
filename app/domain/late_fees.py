"""Late fees (滞纳金) on overdue assessments, as the region's policy table states them.

社会保险法 §86 adds 0.05 % a day of the overdue amount from the day it fell due. A table that
sets ``late_fee`` says so for its region, year, insurance and category (with its due date,
grace days and exempt kinds, each citing its source); a table without one charges none. The
fee is computed for the day the payer pays — so an order made on a later day prices it
again — and it stays its own line: its own amount beside the fee, posted and certified with
its own e-ticket number. The one rounding place is ``money.contribution_fen``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain.model import Assessment
from app.domain.policy import PolicyBook

LATE_FEE_LABEL = "滞纳金"


@dataclass(frozen=True)
class LateFee:
    """The late fee of one assessment on one day."""

    assessment_id: int | None
    amount_fen: int
    days: int
    due: date | None
    daily_rate: str | None

    @classmethod
    def none(cls, assessment_id: int | None) -> "LateFee":
        return cls(assessment_id, 0, 0, None, None)


def late_fee_for(assessment: Assessment, category: str | None, policies: PolicyBook, today: date) -> LateFee:
    """What ``assessment`` owes in late fees if paid ``today`` (zero where the table sets none)."""
    policy = policies.find(assessment.region, assessment.period_start.year, assessment.insurance, category or "")
    rule = policy.late_fee if policy is not None else None
    if rule is None or assessment.kind in rule.exempt_kinds:
        return LateFee.none(assessment.id)
    due = rule.due_date(assessment.period_end)
    days = rule.days_overdue(due, today)
    return LateFee(assessment.id, rule.fee_fen(assessment.amount_fen, due, today), days, due, str(rule.daily_rate))


def late_fees_for(assessments: list[Assessment], categories: dict[int, str | None], policies: PolicyBook,
                  today: date) -> dict[int, LateFee]:
    """Each assessment's late fee today, by assessment id; ``categories`` maps enrollment ids to categories."""
    return {a.id: late_fee_for(a, categories.get(a.enrollment_id), policies, today) for a in assessments}
