"""Reconciliation (对账): what counts as a difference between a provider's day and our books.

Three ways: the provider's statement of one Asia/Shanghai day, our orders and refunds, and the
assessments those debits settled (posted payments whose assessment is still ``paid``). The
database matches the sides set-based and hands over one comparison per order number or refund
number that is not plainly in agreement; the rules here turn each comparison into the
differences it shows. A difference is keyed by its kind and the order or refund number, so a
second run of the same day finds the same keys and records nothing new.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.domain.certificates import start_of_day
from app.domain.errors import InvalidInput
from app.domain.money import yuan
from app.domain.orders import DEBITED_STATES, REFUND_FAILED, REFUND_PENDING, REFUND_SUCCEEDED

MISSING_HERE = "missing_here"  # the provider took money for an order we hold as unpaid, or never heard of
MISSING_THERE = "missing_there"  # we hold a debit of the day that the provider does not list
AMOUNT_DIFFERS = "amount_differs"  # the provider's debit and our order disagree on the amount
POSTED_TWICE = "posted_twice"  # the provider lists one order's debit more than once
NOT_SETTLED = "not_settled"  # debited, but what it posted and refunded does not add up to it
REFUNDED_BUT_STILL_POSTED = "refunded_but_still_posted"  # money went back, the assessments stay paid
REFUND_UNKNOWN_HERE = "refund_unknown_here"  # a refund we never asked for
REFUND_MISSING_THERE = "refund_missing_there"  # a refund we asked for of the day that the provider does not list
REFUND_AMOUNT_DIFFERS = "refund_amount_differs"
REFUND_FAILED_HERE = "refund_failed_here"  # the provider refunded what we hold as failed

KINDS = (MISSING_HERE, MISSING_THERE, AMOUNT_DIFFERS, POSTED_TWICE, NOT_SETTLED, REFUNDED_BUT_STILL_POSTED,
         REFUND_UNKNOWN_HERE, REFUND_MISSING_THERE, REFUND_AMOUNT_DIFFERS, REFUND_FAILED_HERE)
LIVE_REFUND_STATES = (REFUND_PENDING, REFUND_SUCCEEDED)  # asked for and not known to have failed


def yuan_str(fen: int | None) -> str:
    return "-" if fen is None else f"{yuan(fen)}元"


@dataclass(frozen=True)
class DayWindow:
    """An Asia/Shanghai day as the half-open range [start, end) our timestamps are compared with."""

    day: date
    start: datetime
    end: datetime

    @classmethod
    def of(cls, day: date) -> "DayWindow":
        return cls(day, start_of_day(day), start_of_day(day + timedelta(days=1)))


def parse_day(text: str) -> date:
    """``YYYY-MM-DD`` to a date; a clear refusal otherwise."""
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidInput("invalid_day", "对账日期格式应为YYYY-MM-DD", field="day") from None


@dataclass(frozen=True)
class OrderComparison:
    """One order number of the day, seen from the statement, our order and what it settled.

    ``statement_lines`` / ``statement_fen``: the provider's payment lines for the order that day.
    ``state`` is None when no order of ours at this provider has the number. ``posted_fen`` sums the
    order's payments whose assessment is still paid; ``refunded_fen`` its refunds not failed.
    """

    order_no: str
    statement_lines: int
    statement_fen: int
    state: str | None
    amount_fen: int | None
    paid_in_day: bool
    posted_fen: int = 0
    refunded_fen: int = 0


@dataclass(frozen=True)
class RefundComparison:
    """One refund number of the day: the statement's refund lines, our refund, and its order."""

    refund_no: str
    order_no: str | None
    statement_lines: int
    statement_fen: int
    state: str | None
    amount_fen: int | None
    created_in_day: bool
    order_amount_fen: int = 0
    order_posted_fen: int = 0
    order_refunded_fen: int = 0


@dataclass(frozen=True)
class Difference:
    """One line where the provider's day and our books disagree (对账差异)."""

    kind: str
    order_no: str | None
    refund_no: str | None
    provider_amount_fen: int | None
    our_amount_fen: int | None
    detail: str

    @property
    def key(self) -> str:
        """Stable across runs of the same day: the kind and the number it is about."""
        return f"{self.kind}:{self.refund_no if self.refund_no is not None else self.order_no}"


def order_differences(row: OrderComparison) -> list[Difference]:
    """The differences one order number shows; [] when the three ways agree."""
    debited = row.state in DEBITED_STATES

    def found(kind: str, detail: str) -> Difference:
        return Difference(kind, row.order_no, None, row.statement_fen if row.statement_lines else None,
                          row.amount_fen, detail)

    if row.statement_lines == 0:
        if debited and row.paid_in_day:
            return [found(MISSING_THERE, f"我方记为已扣款（{row.state}），渠道对账单无此笔")]
        return []
    if not debited:
        known = "我方无此订单" if row.state is None else f"我方订单状态为{row.state}"
        return [found(MISSING_HERE, f"渠道扣款{yuan_str(row.statement_fen)}，{known}")]
    differences = []
    if row.statement_lines > 1:
        differences.append(found(POSTED_TWICE, f"渠道对同一订单扣款{row.statement_lines}笔，"
                                               f"共{yuan_str(row.statement_fen)}"))
    elif row.statement_fen != row.amount_fen:
        differences.append(found(AMOUNT_DIFFERS, f"渠道扣款{yuan_str(row.statement_fen)}，"
                                                 f"订单金额{yuan_str(row.amount_fen)}"))
    settled = row.posted_fen + row.refunded_fen
    # more settled than debited while refunds exist is the refund's difference (refunded but still posted)
    if settled < row.amount_fen or (row.refunded_fen == 0 and settled > row.amount_fen):
        differences.append(found(NOT_SETTLED, f"已扣款{yuan_str(row.amount_fen)}，已入库{yuan_str(row.posted_fen)}，"
                                              f"已退款{yuan_str(row.refunded_fen)}"))
    return differences


def refund_differences(row: RefundComparison) -> list[Difference]:
    """The differences one refund number shows; [] when the three ways agree."""

    def found(kind: str, detail: str) -> Difference:
        return Difference(kind, row.order_no, row.refund_no, row.statement_fen if row.statement_lines else None,
                          row.amount_fen, detail)

    if row.statement_lines == 0:
        if row.state in LIVE_REFUND_STATES and row.created_in_day:
            return [found(REFUND_MISSING_THERE, f"我方已申请退款（{row.state}），渠道对账单无此笔")]
        return []
    if row.state is None:
        return [found(REFUND_UNKNOWN_HERE, f"渠道退款{yuan_str(row.statement_fen)}，我方未申请此退款")]
    differences = []
    if row.state == REFUND_FAILED:
        differences.append(found(REFUND_FAILED_HERE, "渠道已退款，我方记为退款失败"))
    elif row.statement_lines > 1 or row.statement_fen != row.amount_fen:
        differences.append(found(REFUND_AMOUNT_DIFFERS, f"渠道退款{row.statement_lines}笔共{yuan_str(row.statement_fen)}，"
                                                        f"我方退款{yuan_str(row.amount_fen)}"))
    refunded = row.order_refunded_fen if row.state != REFUND_FAILED else row.order_refunded_fen + row.statement_fen
    if row.order_posted_fen + refunded > row.order_amount_fen:
        differences.append(found(REFUNDED_BUT_STILL_POSTED, f"订单已退款{yuan_str(refunded)}，"
                                                            f"仍入库{yuan_str(row.order_posted_fen)}"))
    return differences


@dataclass(frozen=True)
class Totals:
    """Count and sum of payments and refunds on one side of a day."""

    payment_count: int = 0
    payment_fen: int = 0
    refund_count: int = 0
    refund_fen: int = 0
