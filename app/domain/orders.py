"""Orders: one attempt to pay one or more assessments, and the money that comes of it.

State machine (DESIGN.md): created → paying → succeeded → posted; paying → closed;
succeeded → refunding → refunded when posting is impossible. A closed order may still learn
that the payer was debited (a late notification): closed → succeeded → refunding. An order
and a refund move only through their methods below, which check the tables here and note
what changed; the repository persists the changes as a compare-and-set on the version the
order was read at (a refund: on the state it was read in).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.domain.states import require_move

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
    REFUNDING: "扣款成功但缴费失败，款项将原路退回", REFUNDED: "扣款成功但缴费失败，已退款（款项已原路退回）",
}

REFUND_PENDING, REFUND_SUCCEEDED, REFUND_FAILED = "pending", "succeeded", "failed"
REFUND_STATE_LABELS = {REFUND_PENDING: "退款处理中（2-5个工作日）", REFUND_SUCCEEDED: "已退款，款项已退回原支付账户",
                       REFUND_FAILED: "退款失败，税务机关将人工处理"}
REFUND_MOVES = {
    REFUND_PENDING: (REFUND_SUCCEEDED, REFUND_FAILED),
    REFUND_FAILED: (REFUND_PENDING,),  # an operator sends it again (the same refund number)
}


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
    version: int = 0  # as read; the repository saves only over this version
    changes: dict = field(default_factory=dict, repr=False, compare=False)
    moves: list = field(default_factory=list, repr=False, compare=False)  # (from, to) since it was saved

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def _move(self, new: str, **values) -> None:
        require_move(ORDER_MOVES, f"order {self.order_no}", self.state, new)
        self.moves.append((self.state, new))
        self.state = new
        for name, value in values.items():
            setattr(self, name, value)
        self.changes.update(values, state=new)

    def open(self, provider_ref: str | None, pay_url: str | None, qr_code: str | None,
             app_params: dict | None) -> None:
        """The provider opened the payment: the payer can pay now."""
        self._move(PAYING, provider_ref=provider_ref, pay_url=pay_url, qr_code=qr_code, app_params=app_params,
                   failure_reason=None)

    def debit(self, paid_at: datetime, provider_trade_no: str | None) -> None:
        """The provider took the money (a notification or a query said so)."""
        self._move(SUCCEEDED, paid_at=paid_at, provider_trade_no=provider_trade_no)

    def post(self, at: datetime) -> None:
        """The assessments are paid and their e-ticket numbers issued."""
        self._move(POSTED, posted_at=at)

    def close(self, at: datetime, reason: str) -> None:
        """No payment will come: the assessments go back to unpaid."""
        self._move(CLOSED, closed_at=at, failure_reason=reason)

    def start_refund(self, reason: str) -> None:
        """Debited but not postable (扣款成功但缴费失败): the money goes back by the original route."""
        self._move(REFUNDING, failure_reason=reason)

    def finish_refund(self) -> None:
        self._move(REFUNDED)


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
    read_state: str | None = field(default=None, repr=False, compare=False)  # the repository saves over it

    def _move(self, new: str) -> None:
        require_move(REFUND_MOVES, f"refund {self.refund_no}", self.state, new)
        if self.read_state is None:
            self.read_state = self.state
        self.state = new

    def succeed(self, at: datetime, provider_refund_no: str | None) -> None:
        self._move(REFUND_SUCCEEDED)
        self.finished_at, self.provider_refund_no = at, provider_refund_no or self.provider_refund_no

    def fail(self, at: datetime) -> None:
        """The provider refused it for good: an operator takes it from the exceptions list."""
        self._move(REFUND_FAILED)
        self.finished_at = at

    def send_again(self) -> None:
        self._move(REFUND_PENDING)
        self.finished_at = None


E_TICKET_SERIAL_DIGITS = 7


def e_ticket_prefix(region: str, day_yymmdd: str) -> str:
    """The 13 characters of an e-ticket number before its serial: ``3`` + region (6) + yymmdd."""
    return f"3{region[:6]:0<6}{day_yymmdd}"


def e_ticket_number(region: str, day_yymmdd: str, serial: int) -> str:
    """电子税票号码: ``3`` + region (6) + yymmdd + a 7-digit serial (20 characters).

    The serial comes from the database (a sequence), so numbers are unique by construction;
    the unique index on ``payment.e_ticket_number`` still guards them. On PostgreSQL the
    payment's INSERT appends the serial itself to ``e_ticket_prefix`` (the same digits).
    """
    return e_ticket_prefix(region, day_yymmdd) + f"{serial % 10 ** E_TICKET_SERIAL_DIGITS:0{E_TICKET_SERIAL_DIGITS}d}"


def methods_allowed(channel_methods: dict[str, list[str]], channel: str) -> list[str]:
    """``provider.method`` codes a channel offers; unknown channels offer nothing."""
    return list(channel_methods.get(channel, ()))


# keys that name or identify the payer in a provider's notification; the adapters leave most out
# already, and what is kept with the order must never carry them
PERSONAL_KEYS = frozenset({"payer", "openid", "sub_openid", "buyer_id", "buyer_logon_id", "buyer_user_id",
                           "buyer_open_id", "accNo", "customerInfo", "payCardNo", "payer_name", "payer_id_number",
                           "name", "id_number", "phone", "mobile"})


def kept_notification(raw: object) -> object:
    """A verified notification as kept for replay and disputes: everything but personal data."""
    if isinstance(raw, dict):
        return {k: kept_notification(v) for k, v in raw.items() if k not in PERSONAL_KEYS}
    if isinstance(raw, (list, tuple)):
        return [kept_notification(v) for v in raw]
    return raw if isinstance(raw, (str, int, float, bool)) or raw is None else str(raw)
