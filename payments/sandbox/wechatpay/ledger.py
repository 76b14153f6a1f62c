"""The sandbox's books: orders and refunds in memory, under WeChat Pay's rules, thread-safe.

Answers are snapshots (copies) taken under the lock, so the Flask threads, the refund timers
and the notifier never see an order change halfway. Shapes of the JSON answers follow WeChat
Pay's v3 documentation for 查询订单, 申请退款 / 查询单笔退款 and the notification resources.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone

# China has had no daylight saving since 1991: a fixed +08:00 is exact, and it is what WeChat's
# RFC 3339 times carry.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

TRADE_STATE_DESC = {"NOTPAY": "订单未支付", "SUCCESS": "支付成功", "CLOSED": "订单已关闭",
                    "REFUND": "订单发生过退款，退款详情请查询退款单"}


class GatewayError(Exception):
    """A refusal in WeChat's terms: HTTP status, error code and message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def _digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def _rfc3339(moment: datetime | None) -> str | None:
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds") if moment else None


@dataclass
class Order:
    out_trade_no: str
    appid: str
    mchid: str
    description: str
    total: int
    trade_type: str  # JSAPI or NATIVE
    notify_url: str
    prepay_id: str
    created_at: datetime
    time_expire: datetime | None = None
    openid: str | None = None
    attach: str | None = None
    trade_state: str = "NOTPAY"
    transaction_id: str | None = None
    success_time: datetime | None = None
    payer_cancelled: bool = False

    def as_transaction(self) -> dict:
        """The transaction as 查询订单 answers it and the payment notification carries it."""
        data = {"appid": self.appid, "mchid": self.mchid, "out_trade_no": self.out_trade_no,
                "trade_type": self.trade_type, "trade_state": self.trade_state,
                "trade_state_desc": TRADE_STATE_DESC[self.trade_state],
                "amount": {"total": self.total, "currency": "CNY"}}
        if self.attach:
            data["attach"] = self.attach
        if self.transaction_id:
            data.update({"transaction_id": self.transaction_id, "bank_type": "OTHERS",
                         "success_time": _rfc3339(self.success_time),
                         "payer": {"openid": self.openid},
                         "amount": {"total": self.total, "payer_total": self.total,
                                    "currency": "CNY", "payer_currency": "CNY"}})
        return data


@dataclass
class Refund:
    out_refund_no: str
    refund_id: str
    out_trade_no: str
    transaction_id: str
    refund: int
    total: int
    reason: str | None
    notify_url: str | None
    create_time: datetime
    status: str = "PROCESSING"
    success_time: datetime | None = None

    def _amount(self) -> dict:
        return {"total": self.total, "refund": self.refund, "payer_total": self.total,
                "payer_refund": self.refund}

    def as_answer(self) -> dict:
        """The refund as 申请退款 and 查询单笔退款 answer it."""
        data = {"refund_id": self.refund_id, "out_refund_no": self.out_refund_no,
                "transaction_id": self.transaction_id, "out_trade_no": self.out_trade_no,
                "channel": "ORIGINAL", "user_received_account": "支付用户零钱",
                "create_time": _rfc3339(self.create_time), "status": self.status,
                "funds_account": "AVAILABLE",
                "amount": {**self._amount(), "settlement_total": self.total,
                           "settlement_refund": self.refund, "discount_refund": 0,
                           "currency": "CNY"}}
        if self.success_time:
            data["success_time"] = _rfc3339(self.success_time)
        return data

    def as_notification_resource(self, mchid: str) -> dict:
        """The refund notification's resource: note it carries mchid but no appid."""
        return {"mchid": mchid, "out_trade_no": self.out_trade_no,
                "transaction_id": self.transaction_id, "out_refund_no": self.out_refund_no,
                "refund_id": self.refund_id, "refund_status": self.status,
                "success_time": _rfc3339(self.success_time),
                "user_received_account": "支付用户零钱", "amount": self._amount()}


class Ledger:
    """Orders by out_trade_no (and prepay_id), refunds by out_refund_no."""

    def __init__(self):
        self._lock = threading.Lock()
        self._orders: dict[str, Order] = {}
        self._by_prepay_id: dict[str, str] = {}
        self._refunds: dict[str, Refund] = {}

    def clear(self) -> None:
        with self._lock:
            self._orders.clear()
            self._by_prepay_id.clear()
            self._refunds.clear()

    def open_order(self, order: Order) -> Order:
        """Store a new order; the same order asked again gets its first prepay_id back."""
        with self._lock:
            known = self._orders.get(order.out_trade_no)
            if known is None:
                self._orders[order.out_trade_no] = order
                self._by_prepay_id[order.prepay_id] = order.out_trade_no
                return replace(order)
            if known.trade_state in ("SUCCESS", "REFUND"):
                raise GatewayError(400, "ORDERPAID", "该订单已支付")
            if known.trade_state == "CLOSED":
                raise GatewayError(400, "ORDERCLOSED", "订单已关闭")
            if (known.total, known.trade_type, known.openid) != (order.total, order.trade_type,
                                                                 order.openid):
                raise GatewayError(403, "OUT_TRADE_NO_USED", "商户订单号重复")
            return replace(known)

    def _order(self, out_trade_no: str) -> Order:
        order = self._orders.get(out_trade_no)
        if order is None:
            raise GatewayError(404, "ORDER_NOT_EXIST", "订单不存在")
        return order

    def order(self, out_trade_no: str) -> Order:
        with self._lock:
            return replace(self._order(out_trade_no))

    def order_by_prepay_id(self, prepay_id: str) -> Order | None:
        with self._lock:
            out_trade_no = self._by_prepay_id.get(prepay_id)
            return replace(self._orders[out_trade_no]) if out_trade_no else None

    def pay(self, out_trade_no: str, now: datetime) -> tuple[Order, bool]:
        """The payer confirms. Returns the order and whether it became paid just now."""
        with self._lock:
            order = self._order(out_trade_no)
            if order.trade_state in ("SUCCESS", "REFUND"):
                return replace(order), False
            if order.trade_state == "CLOSED":
                raise GatewayError(409, "ORDERCLOSED", "订单已关闭，无法支付")
            if order.time_expire and now > order.time_expire:
                raise GatewayError(409, "ORDER_EXPIRED", "订单已过期，无法支付")
            order.trade_state = "SUCCESS"
            order.transaction_id = "4200000" + _digits(3) + now.strftime("%Y%m%d") + _digits(10)
            order.success_time = now
            # Whoever scans a Native QR code is only known to WeChat; give them an openid here.
            order.openid = order.openid or "o" + secrets.token_urlsafe(20)[:27]
            order.payer_cancelled = False
            return replace(order), True

    def cancel(self, out_trade_no: str) -> Order:
        """The payer backs out. As in WeChat, the order stays NOTPAY and can still be paid."""
        with self._lock:
            order = self._order(out_trade_no)
            if order.trade_state == "NOTPAY":
                order.payer_cancelled = True
            return replace(order)

    def close(self, out_trade_no: str) -> None:
        with self._lock:
            order = self._order(out_trade_no)
            if order.trade_state in ("SUCCESS", "REFUND"):
                raise GatewayError(400, "ORDERPAID", "订单已支付")
            order.trade_state = "CLOSED"

    def refund(self, out_refund_no: str, out_trade_no: str | None, transaction_id: str | None,
               amount: int, total: int, reason: str | None, notify_url: str | None,
               now: datetime) -> tuple[Refund, bool]:
        """Accept a refund. Returns the refund and whether it is new (one per out_refund_no)."""
        with self._lock:
            order = next((o for o in self._orders.values()
                          if (out_trade_no and o.out_trade_no == out_trade_no)
                          or (transaction_id and o.transaction_id == transaction_id)), None)
            if order is None:
                raise GatewayError(404, "RESOURCE_NOT_EXISTS", "订单不存在")
            known = self._refunds.get(out_refund_no)
            if known is not None:
                if known.out_trade_no != order.out_trade_no:
                    raise GatewayError(400, "INVALID_REQUEST", "退款单号已用于其他订单")
                return replace(known), False
            if order.trade_state not in ("SUCCESS", "REFUND"):
                raise GatewayError(400, "INVALID_REQUEST", "订单未支付，不能退款")
            if total != order.total:
                raise GatewayError(400, "PARAM_ERROR", "订单金额 total 与原订单不一致")
            refunded = sum(r.refund for r in self._refunds.values()
                           if r.out_trade_no == order.out_trade_no and r.status != "CLOSED")
            if amount <= 0 or refunded + amount > order.total:
                raise GatewayError(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
            refund = Refund(out_refund_no=out_refund_no,
                            refund_id="50" + _digits(8) + now.strftime("%Y%m%d") + _digits(11),
                            out_trade_no=order.out_trade_no, transaction_id=order.transaction_id,
                            refund=amount, total=order.total, reason=reason, notify_url=notify_url,
                            create_time=now)
            self._refunds[out_refund_no] = refund
            order.trade_state = "REFUND"
            return replace(refund), True

    def refund_of(self, out_refund_no: str) -> Refund:
        with self._lock:
            refund = self._refunds.get(out_refund_no)
            if refund is None:
                raise GatewayError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
            return replace(refund)

    def settle_refund(self, out_refund_no: str, now: datetime) -> Refund | None:
        """The money reached the payer; None when the refund is gone (a reset) or settled."""
        with self._lock:
            refund = self._refunds.get(out_refund_no)
            if refund is None or refund.status != "PROCESSING":
                return None
            refund.status = "SUCCESS"
            refund.success_time = now
            return replace(refund)

    def day_book(self, day: date) -> tuple[list[Order], list[tuple[Refund, Order]]]:
        """Payments that succeeded on ``day`` and refunds accepted on it (the bill's data times)."""
        with self._lock:
            paid = sorted((replace(o) for o in self._orders.values()
                           if o.success_time and o.success_time.astimezone(SHANGHAI).date() == day),
                          key=lambda o: o.success_time)
            refunds = sorted(((replace(r), replace(self._orders[r.out_trade_no]))
                              for r in self._refunds.values()
                              if r.create_time.astimezone(SHANGHAI).date() == day),
                             key=lambda pair: pair[0].create_time)
            return paid, refunds

    def orders(self) -> list[Order]:
        with self._lock:
            return [replace(o) for o in self._orders.values()]
