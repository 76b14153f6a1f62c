"""Refund applications (社保费退费申请, seed 004): a payer asks for posted money back.

What may be asked back: the fee of an assessment that was paid, posted *and* reached the
treasury (入库: the day ``certificates.treasury_date`` gives, the same rule certificates use),
at most once: while an application holding it is live, the database refuses a second one (a
partial unique index on the item), and the amount is the posted amount, never more.

State table (what the payer sees on every channel):

    submitted 受理 ──accept──> under_review 审核中 ──approve──> paying_out 退费中 ──> refunded 已退费
        │                         │                               │
        └──reject──> rejected 不予退费 <──┘                          └─bank refused─> returned 已退回
                                                                  (payer files another account → paying_out)

Four eyes: the staff member who accepted an application cannot approve it (``approve``).
The aggregate moves only through its methods, which check the table; the repository saves a
move as a compare-and-set on the version the application was read at.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.domain.certificates import chinese_date, treasury_date
from app.domain.errors import Conflict, Forbidden, InvalidInput
from app.domain.model import PAID, PAYING, REFUNDED, Assessment
from app.domain.states import require_move

SUBMITTED, UNDER_REVIEW, RETURNED = "submitted", "under_review", "returned"
PAYING_OUT, REFUNDED_STATE, REJECTED = "paying_out", "refunded", "rejected"
STATE_LABELS = {SUBMITTED: "受理", UNDER_REVIEW: "审核中", RETURNED: "已退回", PAYING_OUT: "退费中",
                REFUNDED_STATE: "已退费", REJECTED: "不予退费"}
MOVES = {
    SUBMITTED: (UNDER_REVIEW, REJECTED),
    UNDER_REVIEW: (PAYING_OUT, REJECTED),
    PAYING_OUT: (REFUNDED_STATE, RETURNED),
    RETURNED: (PAYING_OUT, REJECTED),
}
# an application in these states holds its items (no second application may take them)
HOLDING_STATES = (SUBMITTED, UNDER_REVIEW, PAYING_OUT, RETURNED, REFUNDED_STATE)

# 退费原因类型: code → (label, source). The sources are the rules a refund of that kind rests on.
REASON_TYPES = {
    "overpaid": ("多缴", "《中华人民共和国税收征收管理法》第五十一条（多缴退还）；社会保险费由税务部门征收，多缴费款依申请退还"),
    "duplicate": ("重复缴费", "同一费款所属期重复缴纳：《中华人民共和国税收征收管理法》第五十一条（多缴退还）"),
    "retirement_lump_sum": ("退休一次性退费", "《中华人民共和国社会保险法》第十六条：达到法定退休年龄时累计缴费不足十五年的，"
                                       "可以转入新型农村社会养老保险或者城镇居民社会养老保险；不再续保的个人账户依规定处理"),
    "death_lump_sum": ("死亡一次性退费", "《中华人民共和国社会保险法》第十四条：个人死亡的，个人账户余额可以继承"),
    "assessment_error": ("核定错误", "缴费基数或档次核定有误，经核实后多核定部分予以退还（社会保险费申报缴纳相关规定）"),
    "other": ("其他", "其他经税务机关审核应予退还的情形"),
}
MAX_REASON_TEXT = 200

# Refund windows of the original routes, in days after the payment (退款期限), as the providers publish them:
# WeChat Pay v3 申请退款 "交易时间超过一年的订单无法提交退款"; Alipay alipay.trade.refund "交易超过约定时间（签约时
# 设置的可退款时间）的订单无法进行退款" (the shortest common contract term, three months, is taken); UnionPay ACP
# 退货交易 one year; CCB 网银支付 refund within a year of the trade. Agreement debits and bank counters return
# money by bank transfer only. ``fake`` is the test provider, refundable like WeChat Pay.
REFUND_WINDOW_DAYS = {"wechatpay": 365, "alipay": 90, "unionpay": 365, "ccb": 365, "fake": 365}
ORIGINAL, BANK = "original", "bank"
PAYOUT_ROUTE_LABELS = {ORIGINAL: "原路退回", BANK: "退至备案银行账户"}
PAYOUT_PENDING, PAYOUT_DONE, PAYOUT_FAILED = "pending", "done", "failed"


def original_route_open(provider: str, paid_at: datetime, now: datetime) -> bool:
    """Whether the original provider still takes a refund of a payment made at ``paid_at``."""
    days = REFUND_WINDOW_DAYS.get(provider)
    return days is not None and now - paid_at < timedelta(days=days)


def check_reason(reason_type: str, reason_text: str) -> tuple[str, str]:
    if reason_type not in REASON_TYPES:
        raise InvalidInput("refund_reason_type_invalid", "请选择退费原因类型", field="reason_type")
    text = " ".join((reason_text or "").split())
    if not text:
        raise InvalidInput("refund_reason_required", "请填写退费申请理由", field="reason_text")
    if len(text) > MAX_REASON_TEXT:
        raise InvalidInput("refund_reason_too_long", f"退费申请理由不能超过{MAX_REASON_TEXT}个字", field="reason_text")
    return reason_type, text


@dataclass(frozen=True)
class Refundable:
    """A posted fee as an application may take it: its assessment, payment and order."""

    assessment: Assessment
    payment_id: int
    e_ticket_number: str
    amount_fen: int
    posted_at: datetime
    order_no: str
    provider: str
    paid_at: datetime | None
    held: bool = False  # a live application holds it already


def check_refundable(r: Refundable, today: date, delay_working_days: int) -> None:
    """Refuse, with the payer's words, an item that cannot be asked back now."""
    a = r.assessment
    if a.state == REFUNDED:
        raise Conflict("refund_item_refunded", f"{a.period_label}的费款已退费，不能重复申请", field="items")
    if a.state == PAYING:
        raise Conflict("refund_item_paying", f"{a.period_label}的费款正在缴费中，请缴费完成并入库后再申请退费",
                       field="items")
    if a.state != PAID:
        raise Conflict("refund_item_unpaid", f"{a.period_label}的费款未缴纳，无需退费", field="items")
    if r.held:
        raise Conflict("refund_item_applied", f"{a.period_label}的费款已在退费申请中，不能重复申请", field="items")
    available = treasury_date(r.posted_at, delay_working_days)
    if available > today:
        raise Conflict("refund_item_not_in_treasury",
                       f"{a.period_label}的费款尚未入库，预计{chinese_date(available)}起可以申请退费", field="items")


@dataclass
class RefundItem:
    assessment_id: int
    payment_id: int
    order_no: str
    amount_fen: int
    id: int | None = None


@dataclass
class Payout:
    """One transfer of money back: by the original route (a refund of one order) or by the bank."""

    route: str  # ORIGINAL or BANK
    key: str  # the refund number (original) or the payout request id (bank): the call's idempotency key
    amount_fen: int
    assessment_ids: list[int]
    order_no: str | None = None
    state: str = PAYOUT_PENDING
    reason: str | None = None

    def as_dict(self) -> dict:
        return {"route": self.route, "key": self.key, "amount_fen": self.amount_fen,
                "assessment_ids": list(self.assessment_ids), "order_no": self.order_no, "state": self.state,
                "reason": self.reason}

    @classmethod
    def from_dict(cls, d: dict) -> "Payout":
        return cls(route=d["route"], key=d["key"], amount_fen=int(d["amount_fen"]),
                   assessment_ids=[int(x) for x in d["assessment_ids"]], order_no=d.get("order_no"),
                   state=d.get("state", PAYOUT_PENDING), reason=d.get("reason"))


@dataclass
class RefundApplication:
    application_no: str
    person_id: int
    applicant_account_id: int | None
    channel: str
    insurance: str
    reason_type: str
    reason_text: str
    bank_account_id: int
    created_at: datetime
    items: list[RefundItem] = field(default_factory=list)
    state: str = SUBMITTED
    accepted_by: str | None = None
    accepted_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    decided_reason: str | None = None  # why it was rejected, or why the money came back
    payouts: list[Payout] = field(default_factory=list)
    finished_at: datetime | None = None
    id: int | None = None
    version: int = 0  # as read; the repository saves only over it
    moves: list = field(default_factory=list, repr=False, compare=False)

    @property
    def total_fen(self) -> int:
        return sum(i.amount_fen for i in self.items)

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    def _move(self, new: str) -> None:
        require_move(MOVES, f"refund application {self.application_no}", self.state, new)
        self.moves.append((self.state, new))
        self.state = new

    def accept(self, staff: str, at: datetime) -> None:
        """受理: a staff member takes it up for review."""
        self._require(SUBMITTED, "只有新提交的申请可以受理")
        self._move(UNDER_REVIEW)
        self.accepted_by, self.accepted_at = staff, at

    def approve(self, staff: str, at: datetime, payouts: list[Payout]) -> None:
        """审核通过: another staff member approves; the money goes out by the payouts planned."""
        self._require(UNDER_REVIEW, "只有审核中的申请可以审核通过")
        if staff == self.accepted_by:
            raise Forbidden("refund_four_eyes", "受理人不能审核自己受理的退费申请，请由其他审核人员审核")
        if sum(p.amount_fen for p in payouts) != self.total_fen:
            raise ValueError("payouts must carry the whole amount applied for")
        self._move(PAYING_OUT)
        self.approved_by, self.approved_at, self.payouts = staff, at, payouts

    def reject(self, staff: str, at: datetime, reason: str) -> None:
        """不予退费, with the reason the payer reads."""
        reason = " ".join((reason or "").split())
        if not reason:
            raise InvalidInput("refund_reject_reason_required", "请填写不予退费的原因", field="reason")
        if self.state not in (SUBMITTED, UNDER_REVIEW, RETURNED):
            raise Conflict("refund_application_state", "该退费申请当前状态不能不予退费")
        self._move(REJECTED)
        self.decided_reason, self.finished_at = reason[:200], at
        if self.accepted_by is None:
            self.accepted_by, self.accepted_at = staff, at

    def payout_done(self, key: str, at: datetime) -> list[int]:
        """A payout arrived; answers the assessments it refunded. Refunded once every payout arrived."""
        payout = self._payout(key)
        if payout is None or payout.state == PAYOUT_DONE:
            return []
        payout.state = PAYOUT_DONE
        if all(p.state == PAYOUT_DONE for p in self.payouts) and self.state == PAYING_OUT:
            self._move(REFUNDED_STATE)
            self.finished_at = at
        return payout.assessment_ids

    def payout_refused(self, key: str, reason: str) -> bool:
        """The bank refused a transfer (a closed account): back to the payer to file another account."""
        payout = self._payout(key)
        if payout is None or payout.state != PAYOUT_PENDING or self.state != PAYING_OUT:
            return False
        payout.state, payout.reason = PAYOUT_FAILED, reason
        self._move(RETURNED)
        self.decided_reason = f"退费转账未成功（{reason}），请备案其他银行账户后重新提交"
        return True

    def resubmit_account(self, bank_account_id: int, new_keys: dict[str, str]) -> list[Payout]:
        """已退回 → 退费中: the payer filed another account; the refused transfers go again under new keys."""
        self._require(RETURNED, "只有已退回的申请可以更换账户重新提交")
        self.bank_account_id = bank_account_id
        again = []
        for p in self.payouts:
            if p.state == PAYOUT_FAILED:
                p.key, p.state, p.reason = new_keys[p.key], PAYOUT_PENDING, None
                again.append(p)
        self._move(PAYING_OUT)
        self.decided_reason = None
        return again

    def _payout(self, key: str) -> Payout | None:
        return next((p for p in self.payouts if p.key == key), None)

    def _require(self, state: str, message: str) -> None:
        if self.state != state:
            raise Conflict("refund_application_state", f"{message}（当前状态：{self.state_label}）")


def plan_payouts(items: list[Refundable], now: datetime, refund_no, payout_id) -> list[Payout]:
    """By the original route for each order whose provider still takes refunds, else one bank transfer.

    ``refund_no()`` and ``payout_id()`` give new idempotency keys.
    """
    by_order: dict[str, list[Refundable]] = {}
    bank: list[Refundable] = []
    for r in items:
        if r.paid_at is not None and original_route_open(r.provider, r.paid_at, now):
            by_order.setdefault(r.order_no, []).append(r)
        else:
            bank.append(r)
    payouts = [Payout(ORIGINAL, refund_no(), sum(r.amount_fen for r in rs), [r.assessment.id for r in rs], order_no)
               for order_no, rs in sorted(by_order.items())]
    if bank:
        payouts.append(Payout(BANK, payout_id(), sum(r.amount_fen for r in bank), [r.assessment.id for r in bank]))
    return payouts
