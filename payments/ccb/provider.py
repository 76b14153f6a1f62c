"""建行支付: the payer pays with a CCB card on the bank's own page (seed 004: card number and the
last four characters of the document number, then the account name and the withdrawal password).

No maintained Python SDK exists for CCB's merchant interfaces, so messages are signed and
verified here (``payments.ccb.signing``) and posted with ``requests``. Card data never passes
through us: we register the order with the bank and send the payer to the bank's page.

Settings, the kwargs of ``build``:
    merchant_id, pos_id, branch_id   the merchant's MERCHANTID, POSID (柜台号) and BRANCHID.
    merchant_key        our RSA private key (PEM text or file path) signing every request.
    bank_public_key     the bank's RSA public key (PEM text or file path) checking its answers
                        and notifications.
    gateway_url         the bank's merchant gateway: ``/ccbNetpay/orders``, ``/query``, ``/close``,
                        ``/refund``, ``/refund-query`` and ``/statement`` below it.
    timeout             seconds per HTTP call, default 10.

Answers: a signed JSON object with RESULT ``Y`` or ``N`` (and ERRCODE, ERRMSG); an unsigned,
unreadable or failed-to-arrive answer is UNKNOWN, never FAIL. Notifications are form POSTs
(POSID, BRANCHID, ORDERID, PAYMENT, CURCODE, ACC_TYPE, SUCCESS, TRADE_NO, SIGN), checked in
this order: signature, our POSID and BRANCHID, currency, the amount's shape.
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import requests

from payments.base import (Acknowledgement, CloseResult, IncomingNotification, Notification, NotificationRejected,
                           PrepayRequest, PrepayResult, RefundRequest, RefundResult, ResultState, StatementLine,
                           StatementUnavailable, TradeResult)
from payments.ccb import signing

log = logging.getLogger(__name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")
TRADE_STATES = {"SUCCESS": ResultState.SUCCESS, "WAIT": ResultState.WAITING, "CLOSED": ResultState.FAIL,
                "NOTEXIST": ResultState.FAIL, "REFUNDED": ResultState.SUCCESS}
REFUND_STATES = {"SUCCESS": ResultState.SUCCESS, "PROCESSING": ResultState.WAITING, "FAIL": ResultState.FAIL}


def _pem(value: str | bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    return value.encode() if value.lstrip().startswith("-----BEGIN") else Path(value).read_bytes()


class CcbProvider:
    code = "ccb"
    methods = frozenset({"card"})

    def __init__(self, merchant_id: str, pos_id: str, branch_id: str, merchant_key: str | bytes,
                 bank_public_key: str | bytes, gateway_url: str, timeout: float = 10.0):
        self.merchant_id, self.pos_id, self.branch_id = merchant_id, pos_id, branch_id
        self._key, self._bank_key = _pem(merchant_key), _pem(bank_public_key)
        self.gateway_url, self.timeout = gateway_url.rstrip("/"), timeout

    # -- the wire ---------------------------------------------------------------------------

    def _ids(self) -> dict:
        return {"MERCHANTID": self.merchant_id, "POSID": self.pos_id, "BRANCHID": self.branch_id}

    def _call(self, path: str, fields: dict) -> dict | None:
        """The bank's verified answer, or None when there is none we can trust (→ UNKNOWN)."""
        try:
            answer = requests.post(self.gateway_url + path, data=signing.sign({**self._ids(), **fields}, self._key),
                                   timeout=self.timeout)
            data = answer.json()
        except (requests.RequestException, ValueError) as exc:
            log.warning("ccb %s failed: %s", path, exc)
            return None
        if answer.status_code != 200 or not isinstance(data, dict) or not signing.verify(data, self._bank_key):
            log.warning("ccb %s answered %s without a valid signature", path, answer.status_code)
            return None
        return data

    # -- the port ---------------------------------------------------------------------------

    def prepay(self, request: PrepayRequest) -> PrepayResult:
        if request.method not in self.methods:
            return PrepayResult(ResultState.FAIL, error_code="method_unsupported")
        data = self._call("/ccbNetpay/orders", {
            "ORDERID": request.order_no, "PAYMENT": signing.yuan(request.amount_fen), "CURCODE": "01",
            "TXCODE": "520100", "REMARK1": request.description[:30], "NOTIFYURL": request.notify_url,
            "RETURNURL": request.return_url or "", "CLIENTIP": request.client_ip or "",
            "TIMEOUT": request.expires_at.astimezone(SHANGHAI).strftime("%Y%m%d%H%M%S")})
        if data is None:
            return PrepayResult(ResultState.UNKNOWN, error_code="no_answer")
        if data.get("RESULT") != "Y":
            return PrepayResult(ResultState.FAIL, error_code=data.get("ERRCODE"), error_message=data.get("ERRMSG"))
        return PrepayResult(ResultState.WAITING, pay_url=data["PAYURL"], provider_ref=data.get("ORDERID"))

    def query(self, order_no: str) -> TradeResult:
        data = self._call("/ccbNetpay/query", {"ORDERID": order_no, "TXCODE": "410408"})
        if data is None:
            return TradeResult(ResultState.UNKNOWN, order_no, error_code="no_answer")
        if data.get("RESULT") != "Y":
            return TradeResult(ResultState.UNKNOWN, order_no, error_code=data.get("ERRCODE"),
                               error_message=data.get("ERRMSG"))
        status = data.get("STATUS", "")
        paid_at = datetime.strptime(data["PAYTIME"], "%Y%m%d%H%M%S").replace(tzinfo=SHANGHAI) \
            if data.get("PAYTIME") else None
        return TradeResult(TRADE_STATES.get(status, ResultState.UNKNOWN), order_no, signing.fen(data["PAYMENT"])
                           if data.get("PAYMENT") else None, data.get("TRADE_NO"), paid_at, status)

    def close(self, order_no: str) -> CloseResult:
        data = self._call("/ccbNetpay/close", {"ORDERID": order_no})
        if data is None:
            return CloseResult(ResultState.UNKNOWN, "no_answer")
        if data.get("RESULT") == "Y":
            return CloseResult(ResultState.SUCCESS)
        if data.get("ERRCODE") == "ORDERPAID":
            return CloseResult(ResultState.FAIL, "order_paid", data.get("ERRMSG"))
        return CloseResult(ResultState.UNKNOWN, data.get("ERRCODE"), data.get("ERRMSG"))

    def parse_notification(self, incoming: IncomingNotification) -> Notification:
        try:
            fields = dict(parse_qsl(incoming.body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise NotificationRejected("malformed") from None
        if not fields or not signing.verify(fields, self._bank_key):
            raise NotificationRejected("bad_signature")
        if fields.get("POSID") != self.pos_id or fields.get("BRANCHID") != self.branch_id:
            raise NotificationRejected("merchant_mismatch", f"{fields.get('POSID')}/{fields.get('BRANCHID')}")
        if fields.get("CURCODE") != "01":
            raise NotificationRejected("currency_mismatch", str(fields.get("CURCODE")))
        try:
            amount = signing.fen(fields["PAYMENT"])
            order_no = fields["ORDERID"]
        except (KeyError, ValueError) as exc:
            raise NotificationRejected("malformed", str(exc)) from None
        refund_no = fields.get("REFUND_CODE")
        state = ResultState.SUCCESS if fields.get("SUCCESS") == "Y" else ResultState.FAIL
        return Notification(kind="refund" if refund_no else "payment", order_no=order_no, state=state,
                            amount_fen=amount, provider_trade_no=fields.get("TRADE_NO"), refund_no=refund_no,
                            notification_id=fields.get("TRADE_NO"), provider_state=fields.get("SUCCESS"), raw=fields)

    def acknowledge(self, handled: bool) -> Acknowledgement:
        return Acknowledgement(200, b"SUCCESS") if handled else Acknowledgement(500, b"FAIL")

    def refund(self, request: RefundRequest) -> RefundResult:
        data = self._call("/ccbNetpay/refund", {"ORDERID": request.order_no, "REFUND_CODE": request.refund_no,
                                                "MONEY": signing.yuan(request.amount_fen),
                                                "NOTIFYURL": request.notify_url or ""})
        return self._refund_result(request.order_no, request.refund_no, data)

    def query_refund(self, order_no: str, refund_no: str) -> RefundResult:
        return self._refund_result(order_no, refund_no, self._call("/ccbNetpay/refund-query",
                                                                    {"ORDERID": order_no, "REFUND_CODE": refund_no}))

    def _refund_result(self, order_no: str, refund_no: str, data: dict | None) -> RefundResult:
        if data is None:
            return RefundResult(ResultState.UNKNOWN, order_no, refund_no, error_code="no_answer")
        if data.get("RESULT") != "Y":
            state = ResultState.FAIL if data.get("ERRCODE") in ("NOTPAID", "AMOUNT_EXCEEDED") else ResultState.UNKNOWN
            return RefundResult(state, order_no, refund_no, error_code=data.get("ERRCODE"),
                                error_message=data.get("ERRMSG"))
        status = data.get("STATUS", "")
        return RefundResult(REFUND_STATES.get(status, ResultState.UNKNOWN), order_no, refund_no,
                            signing.fen(data["MONEY"]) if data.get("MONEY") else None, data.get("REFUND_TRADE_NO"),
                            status)

    def statement(self, day: date) -> list[StatementLine]:
        data = self._call("/ccbNetpay/statement", {"DATE": day.strftime("%Y%m%d")})
        if data is None or data.get("RESULT") != "Y":
            raise StatementUnavailable(f"ccb statement of {day} unavailable")
        lines = []
        for raw in data.get("LINES", "").splitlines():  # kind|ORDERID|yuan|TRADE_NO|REFUND_CODE|yyyyMMddHHmmss
            kind, order_no, amount, trade_no, refund_no, at = raw.split("|")
            lines.append(StatementLine(kind, order_no, signing.fen(amount), trade_no or None, refund_no or None,
                                       datetime.strptime(at, "%Y%m%d%H%M%S").replace(tzinfo=SHANGHAI)))
        return lines


def build(**kwargs) -> CcbProvider:
    return CcbProvider(**kwargs)


# no SDK and nothing sent: building the provider is the cheap check production runs at start
check_settings = build
