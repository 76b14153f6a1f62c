"""The UnionPay sandbox's books: QR orders, their payments and refunds, kept in memory.

Thread-safe: the gateway serves requests, the cashier page and the control endpoints from
several threads. Refusals carry ACP response codes (``LedgerRefusal.code``) so the gateway
can answer them as UnionPay would.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

UNPAID, PAID, CANCELLED, CLOSED = "unpaid", "paid", "cancelled", "closed"


class LedgerRefusal(Exception):
    """The books refuse a change; ``code`` is the ACP respCode, ``message`` its respMsg."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Order:
    """A QR order (主扫) and, once paid, its payment."""

    order_no: str
    amount_fen: int
    txn_time: str  # yyyyMMddHHmmss as the merchant sent it
    back_url: str
    pay_timeout: datetime | None
    token: str  # names the cashier page the QR code opens
    query_id: str  # the QR order's own transaction, which an undo refers to
    state: str = UNPAID
    pay_query_id: str | None = None  # the payment's queryId: the provider trade number
    trace_no: str | None = None
    paid_at: datetime | None = None
    refunded_fen: int = 0

    def expired(self, now: datetime) -> bool:
        return self.state == UNPAID and self.pay_timeout is not None and now > self.pay_timeout


@dataclass(frozen=True)
class Refund:
    refund_no: str
    order_no: str
    amount_fen: int
    txn_time: str
    back_url: str | None
    req_reserved: str | None
    query_id: str
    orig_qry_id: str
    trace_no: str
    at: datetime


def now_in_shanghai() -> datetime:
    return datetime.now(SHANGHAI)


def _query_id(now: datetime) -> str:
    # UnionPay's queryIds are 21 digits beginning with the time
    return now.strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10 ** 7):07d}"


def _trace_no() -> str:
    return f"{secrets.randbelow(10 ** 6):06d}"


class Ledger:
    """Orders and refunds by their orderId; every change under one lock."""

    def __init__(self):
        self._lock = threading.RLock()
        self._orders: dict[str, Order] = {}
        self._refunds: dict[str, Refund] = {}
        self._tokens: dict[str, str] = {}

    def open_order(self, order_no: str, amount_fen: int, txn_time: str, back_url: str,
                   pay_timeout: datetime | None) -> Order:
        with self._lock:
            if order_no in self._orders or order_no in self._refunds:
                raise LedgerRefusal("12", "重复交易")
            now = now_in_shanghai()
            order = Order(order_no, amount_fen, txn_time, back_url, pay_timeout, secrets.token_urlsafe(12),
                          _query_id(now))
            self._orders[order_no] = order
            self._tokens[order.token] = order_no
            return order

    def order(self, order_no: str) -> Order | None:
        with self._lock:
            return self._orders.get(order_no)

    def order_by_token(self, token: str) -> Order | None:
        with self._lock:
            return self._orders.get(self._tokens.get(token, ""))

    def refund_record(self, refund_no: str) -> Refund | None:
        with self._lock:
            return self._refunds.get(refund_no)

    def pay(self, order_no: str) -> Order:
        """The payer confirms: the order becomes paid and gets its provider trade number."""
        with self._lock:
            order = self._payable(order_no)
            now = now_in_shanghai()
            order = replace(order, state=PAID, pay_query_id=_query_id(now), trace_no=_trace_no(), paid_at=now)
            self._orders[order_no] = order
            return order

    def cancel(self, order_no: str) -> Order:
        """The payer refuses to pay."""
        with self._lock:
            order = replace(self._payable(order_no), state=CANCELLED)
            self._orders[order_no] = order
            return order

    def _payable(self, order_no: str) -> Order:
        order = self._orders.get(order_no)
        if order is None:
            raise LedgerRefusal("34", "查无此交易")
        if order.state != UNPAID:
            raise LedgerRefusal("35", f"订单状态不正确（{order.state}）")
        if order.expired(now_in_shanghai()):
            raise LedgerRefusal("35", "订单已超过支付时间")
        return order

    def undo(self, orig_qry_id: str) -> Order:
        """Undo (txnType 31) an unpaid QR order so it can no longer be paid.

        The sandbox does not reverse paid orders this way (refunds do that): an undo of a
        paid order is refused with 35, which is what a close racing a payment must handle.
        """
        with self._lock:
            for order in self._orders.values():
                if order.query_id == orig_qry_id and order.state == UNPAID:
                    closed = replace(order, state=CLOSED)
                    self._orders[order.order_no] = closed
                    return closed
            raise LedgerRefusal("35", "原交易不存在或状态不正确")

    def refund(self, refund_no: str, orig_qry_id: str, amount_fen: int, txn_time: str, back_url: str | None,
               req_reserved: str | None) -> Refund:
        """Refund part or all of a paid order; the sandbox settles refunds at once."""
        with self._lock:
            if refund_no in self._orders or refund_no in self._refunds:
                raise LedgerRefusal("12", "重复交易")
            order = next((o for o in self._orders.values() if o.pay_query_id == orig_qry_id), None)
            if order is None or order.state != PAID:
                raise LedgerRefusal("35", "原交易不存在或状态不正确")
            if amount_fen <= 0 or order.refunded_fen + amount_fen > order.amount_fen:
                raise LedgerRefusal("33", "交易金额超限")
            now = now_in_shanghai()
            refund = Refund(refund_no, order.order_no, amount_fen, txn_time, back_url, req_reserved,
                            _query_id(now), orig_qry_id, _trace_no(), now)
            self._refunds[refund_no] = refund
            self._orders[order.order_no] = replace(order, refunded_fen=order.refunded_fen + amount_fen)
            return refund

    def settled_on(self, settle_mmdd: str) -> tuple[list[Order], list[Refund]]:
        """Payments and refunds of a settlement day (MMDD).

        Simplified: each trade settles on its own calendar day in Asia/Shanghai (UnionPay cuts
        its day at 23:00), and the in-memory books never span a year, so MMDD is enough.
        """
        with self._lock:
            paid = [o for o in self._orders.values() if o.paid_at and o.paid_at.strftime("%m%d") == settle_mmdd]
            refunds = [r for r in self._refunds.values() if r.at.strftime("%m%d") == settle_mmdd]
            return paid, refunds

    def clear(self) -> None:
        with self._lock:
            self._orders.clear()
            self._refunds.clear()
            self._tokens.clear()


def settle_day(settle_mmdd: str, today: date) -> date:
    """The latest day up to today with that MMDD (the year of a file name)."""
    month, day = int(settle_mmdd[:2]), int(settle_mmdd[2:])
    year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
    return date(year, month, day)
