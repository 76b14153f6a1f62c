"""Late fees (滞纳金) in the money flow: priced when an order is made, posted beside the fee.

The rule is the domain's (``app.domain.late_fees``); here it meets storage: the categories
come from the enrollments, the day from the clock, and a posted late fee becomes a payment of
kind ``late_fee`` with its own e-ticket number, so certificates show it as its own line.
"""
from __future__ import annotations

from datetime import date, datetime

from app.domain.late_fees import LateFee, late_fees_for
from app.domain.model import DECLARED_UNPAID, Assessment
from app.domain.orders import Order
from app.domain.policy import PolicyBook
from app.services.ports import UnitOfWork
from app.services.views import assessment_view

LATE_FEE = "late_fee"


def price_late_fees(uow: UnitOfWork, assessments: list[Assessment], policies: PolicyBook,
                    today: date) -> dict[int, LateFee]:
    """Each assessment's late fee if paid today (inside the caller's unit of work)."""
    categories = {}
    for enrollment_id in {a.enrollment_id for a in assessments if a.enrollment_id is not None}:
        enrollment = uow.enrollments.get(enrollment_id)
        categories[enrollment_id] = enrollment.category if enrollment else None
    return late_fees_for(assessments, categories, policies, today)


def late_fee_view(fee: LateFee, amount_fen: int) -> dict:
    """What an unpaid assessment's answer adds: today's late fee and what is due with it."""
    return {"late_fee_fen": fee.amount_fen, "late_fee_days": fee.days,
            "late_fee_due": fee.due.isoformat() if fee.due else None, "amount_due_fen": amount_fen + fee.amount_fen}


def unpaid_views(uow: UnitOfWork, assessments: list[Assessment], policies: PolicyBook, today: date) -> list[dict]:
    """Assessment views; the unpaid ones say today's late fee and what paying today costs."""
    unpaid = [a for a in assessments if a.state == DECLARED_UNPAID]
    fees = price_late_fees(uow, unpaid, policies, today) if unpaid else {}
    return [{**assessment_view(a), **late_fee_view(fees[a.id], a.amount_fen)} if a.id in fees else assessment_view(a)
            for a in assessments]


def post_late_fees(uow: UnitOfWork, order: Order, regions: dict[int, str], now: datetime) -> dict[int, str]:
    """Post the order's late fees as their own payments (own e-ticket numbers); the caller commits."""
    fees = [(i.assessment_id, regions[i.assessment_id], i.late_fee_fen) for i in order.items if i.late_fee_fen > 0]
    return uow.orders.add_payments(order.id, fees, now, kind=LATE_FEE) if fees else {}
