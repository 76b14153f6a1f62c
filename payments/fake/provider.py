"""The fake provider: in memory, HMAC-signed JSON notifications, every outcome switchable.

Used by service and API tests that are about our rules, not a provider's protocol. Tests
drive it directly: ``pay(order_no)`` debits the payer and returns the notification a real
provider would send; ``outage`` makes every call UNKNOWN.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from payments.base import (Acknowledgement, CloseResult, IncomingNotification, Notification, NotificationRejected,
                           PrepayRequest, PrepayResult, RefundRequest, RefundResult, ResultState, StatementLine,
                           TradeResult)

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving since 1991: fixed +08:00 is exact


@dataclass
class _Trade:
    order_no: str
    amount_fen: int
    state: str = "NOTPAY"  # NOTPAY / SUCCESS / CLOSED
    trade_no: str | None = None
    paid_at: datetime | None = None
    refunds: dict = field(default_factory=dict)


class FakeProvider:
    code = "fake"
    methods = frozenset({"qr"})

    def __init__(self, secret: str = "fake-secret", code: str = "fake"):
        self.code = code
        self.secret = secret.encode()
        self.trades: dict[str, _Trade] = {}
        self.outage = False
        self.refund_outcome = ResultState.SUCCESS
        self._lock = threading.Lock()
        self._seq = 0

    # what a payer (or a test) does at the provider
    def pay(self, order_no: str, amount_fen: int | None = None) -> IncomingNotification:
        with self._lock:
            trade = self.trades.setdefault(order_no, _Trade(order_no, amount_fen or 0))
            self._seq += 1
            trade.state, trade.trade_no = "SUCCESS", f"FAKE{self._seq:010d}"
            trade.paid_at = datetime.now(timezone.utc)
        return self.notification(order_no, amount_fen if amount_fen is not None else trade.amount_fen)

    def notification(self, order_no: str, amount_fen: int, kind: str = "payment", state: str = "SUCCESS",
                     refund_no: str | None = None, secret: bytes | None = None) -> IncomingNotification:
        trade = self.trades.get(order_no)
        body = json.dumps({"kind": kind, "order_no": order_no, "amount_fen": amount_fen, "state": state,
                           "trade_no": trade.trade_no if trade else None, "refund_no": refund_no}).encode()
        signature = hmac.new(secret or self.secret, body, hashlib.sha256).hexdigest()
        return IncomingNotification(headers={"X-Fake-Signature": signature}, body=body,
                                    content_type="application/json")

    # the port
    def prepay(self, request: PrepayRequest) -> PrepayResult:
        if self.outage:
            return PrepayResult(ResultState.UNKNOWN, error_code="outage")
        with self._lock:
            self.trades.setdefault(request.order_no, _Trade(request.order_no, request.amount_fen))
        return PrepayResult(ResultState.WAITING, qr_code=f"fake://pay/{request.order_no}",
                            provider_ref=f"prepay-{request.order_no}")

    def query(self, order_no: str) -> TradeResult:
        if self.outage:
            return TradeResult(ResultState.UNKNOWN, order_no, error_code="outage")
        trade = self.trades.get(order_no)
        if trade is None:
            return TradeResult(ResultState.FAIL, order_no, provider_state="NOTEXIST")
        state = {"SUCCESS": ResultState.SUCCESS, "CLOSED": ResultState.FAIL}.get(trade.state, ResultState.WAITING)
        return TradeResult(state, order_no, trade.amount_fen, trade.trade_no, trade.paid_at, trade.state)

    def close(self, order_no: str) -> CloseResult:
        if self.outage:
            return CloseResult(ResultState.UNKNOWN, "outage")
        trade = self.trades.get(order_no)
        if trade is not None and trade.state == "SUCCESS":
            return CloseResult(ResultState.FAIL, "order_paid")
        if trade is not None:
            trade.state = "CLOSED"
        return CloseResult(ResultState.SUCCESS)

    def parse_notification(self, incoming: IncomingNotification) -> Notification:
        given = incoming.headers.get("X-Fake-Signature", "")
        expected = hmac.new(self.secret, incoming.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given, expected):
            raise NotificationRejected("bad_signature")
        try:
            data = json.loads(incoming.body)
            amount = int(data["amount_fen"])
        except (ValueError, KeyError, TypeError) as exc:
            raise NotificationRejected("malformed", str(exc)) from None
        return Notification(kind=data["kind"], order_no=data["order_no"], state=ResultState(data["state"]),
                            amount_fen=amount, provider_trade_no=data.get("trade_no"),
                            refund_no=data.get("refund_no"), raw=data)

    def acknowledge(self, handled: bool) -> Acknowledgement:
        return Acknowledgement(200, b"OK") if handled else Acknowledgement(400, b"FAIL")

    def refund(self, request: RefundRequest) -> RefundResult:
        if self.outage:
            return RefundResult(ResultState.UNKNOWN, request.order_no, request.refund_no, error_code="outage")
        trade = self.trades.get(request.order_no)
        if trade is None or trade.state != "SUCCESS":
            return RefundResult(ResultState.FAIL, request.order_no, request.refund_no, error_code="not_paid")
        trade.refunds[request.refund_no] = (request.amount_fen, self.refund_outcome)
        return RefundResult(self.refund_outcome, request.order_no, request.refund_no, request.amount_fen,
                            provider_refund_no=f"FR-{request.refund_no}")

    def query_refund(self, order_no: str, refund_no: str) -> RefundResult:
        trade = self.trades.get(order_no)
        if self.outage:
            return RefundResult(ResultState.UNKNOWN, order_no, refund_no)
        if trade is None or refund_no not in trade.refunds:  # as the real providers answer: no such refund
            return RefundResult(ResultState.FAIL, order_no, refund_no, error_code="not_found", not_found=True)
        amount, _ = trade.refunds[refund_no]
        return RefundResult(self.refund_outcome, order_no, refund_no, amount, provider_refund_no=f"FR-{refund_no}")

    def statement(self, day: date) -> list[StatementLine]:
        lines = []
        for trade in self.trades.values():
            # the statement's day is Asia/Shanghai's (the port says so), not the UTC date of paid_at
            if trade.state == "SUCCESS" and trade.paid_at and trade.paid_at.astimezone(SHANGHAI).date() == day:
                lines.append(StatementLine("payment", trade.order_no, trade.amount_fen, trade.trade_no, at=trade.paid_at))
                lines += [StatementLine("refund", trade.order_no, amount, trade.trade_no, refund_no=no)
                          for no, (amount, outcome) in trade.refunds.items() if outcome == ResultState.SUCCESS]
        return lines


def build(**kwargs) -> FakeProvider:
    return FakeProvider(**kwargs)
