"""Orders: one attempt to pay one or more assessments, and the money that comes of it.

State machine (DESIGN.md): created → paying → succeeded → posted; paying → closed;
succeeded → refunding → refunded when posting is impossible. A closed order may still learn
that the payer was debited (a late notification): closed → succeeded → refunding. Every move
is a compare-and-set in the repository; the moves allowed are listed here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

CREATED, PAYING, SUCCEEDED, POSTED = "created", "paying", "succeeded", "posted"
CLOSED, REFUNDING, REFUNDED = "closed", "refunding", "refunded"
OPEN_STATES = (CREATED, PAYING)
DEBITED_STATES = (SUCCEEDED, POSTED, REFUNDING, REFUNDED)

ORDER_MOVES = {
    CREATED: (PAYING, CLOSED, SUCCEEDED),
    PAYING: (SUCCEEDED, CLOSED),
    CLOSED: (SUCCEEDED,),  # debited after we closed it: the money goes back
    SUCCEEDED: (POSTED, REFUNDING),
    REFUNDING: (REFUNDED,),
}

ORDER_STATE_LABELS = {
    CREATED: "待支付", PAYING: "支付中", SUCCEEDED: "扣款成功", POSTED: "缴费成功", CLOSED: "已关闭",
    REFUNDING: "扣款成功但缴费失败，款项将原路退回", REFUNDED: "扣款成功但缴费失败，款项已原路退回",
}

REFUND_PENDING, REFUND_SUCCEEDED, REFUND_FAILED = "pending", "succeeded", "failed"
REFUND_STATE_LABELS = {REFUND_PENDING: "退款处理中（2-5个工作日）", REFUND_SUCCEEDED: "已退回原支付账户",
                       REFUND_FAILED: "退款失败，税务机关将人工处理"}


def can_move(current: str, new: str) -> bool:
    return new in ORDER_MOVES.get(current, ())


@dataclass
class OrderItem:
    assessment_id: int
    person_id: int
    amount_fen: int
    live: bool = True
    late_fee_fen: int = 0  # 滞纳金 on the day the order was made; the order amount includes it
    id: int | None = None


@dataclass
class Order:
    order_no: str
    channel: str
    provider: str
    method: str
    amount_fen: int
    description: str
    created_at: datetime
    expires_at: datetime
    channel_user: str | None = None
    payer_person_id: int | None = None
    state: str = CREATED
    provider_trade_no: str | None = None
    provider_ref: str | None = None
    pay_url: str | None = None
    qr_code: str | None = None
    app_params: dict | None = None
    failure_reason: str | None = None
    paid_at: datetime | None = None
    posted_at: datetime | None = None
    closed_at: datetime | None = None
    items: list[OrderItem] = field(default_factory=list)
    id: int | None = None

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass
class Refund:
    refund_no: str
    order_id: int
    amount_fen: int
    reason: str
    created_at: datetime
    state: str = REFUND_PENDING
    provider_refund_no: str | None = None
    finished_at: datetime | None = None
    id: int | None = None


def methods_allowed(channel_methods: dict[str, list[str]], channel: str) -> list[str]:
    """``provider.method`` codes a channel offers; unknown channels offer nothing."""
    return list(channel_methods.get(channel, ()))
