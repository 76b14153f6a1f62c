"""The sandbox's trade service: what Alipay does with the merchant's calls and the payer's clicks.

Trades live in memory behind one lock. As at Alipay, a trade exists for query, close and
refund only once the payer has opened the wap page or scanned the QR code (before that the
answer is ACQ.TRADE_NOT_EXIST, and closing it does not stop the QR code: it stays payable
until its own timeout). A wap trade is not known at all before its pay URL is opened, so
``/_control/orders/<no>/pay`` answers 404 for it until then. Every change of state the
merchant must hear of is sent to the trade's notify_url through the shared ``Notifier``,
signed afresh at each attempt, with the same notify_id on every retry.

Sandbox liberties: cancelling on the cashier page closes the trade at once (a real payer just
walks away and the trade waits for its timeout), and a bill is made on request, even for
the current day.
"""
from __future__ import annotations

import itertools
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from payments.sandbox.alipay.bill import BillRow, trade_bill_zip
from payments.sandbox.alipay.signing import APP_ID, SELLER_ID, SandboxKeys, sign_params
from payments.sandbox.common import Faults, Notifier, control_payload, faulty_payments, unknown_numbers

SHANGHAI = ZoneInfo("Asia/Shanghai")
WAIT_BUYER_PAY, TRADE_SUCCESS, TRADE_CLOSED = "WAIT_BUYER_PAY", "TRADE_SUCCESS", "TRADE_CLOSED"
# Alipay retries an unacknowledged notification 7 times over about 25 hours (PROTOCOLS.md).
RETRY_SCHEDULE_SECONDS = [4 * 60, 10 * 60, 10 * 60, 60 * 60, 2 * 3600, 6 * 3600, 15 * 3600]
DEFAULT_TIMEOUT = timedelta(hours=2)  # the sandbox's choice when a request names no timeout
BUYER_ID, BUYER_LOGON_ID = "2088102177846880", "sbx***@sandbox.com"
_TIME = "%Y-%m-%d %H:%M:%S"
_AMOUNT = re.compile(r"\d{1,9}(\.\d{1,2})?")
_TIMEOUT_EXPRESS = re.compile(r"(\d+)([mhd])")
_BILL_URL_SECONDS = 30  # Alipay's download URLs expire after 30 s


class AlipayError(Exception):
    """A refusal, answered as code / msg / sub_code / sub_msg."""

    def __init__(self, sub_code: str, sub_msg: str, code: str = "40004", msg: str = "Business Failed"):
        super().__init__(f"{sub_code}: {sub_msg}")
        self.sub_code, self.sub_msg, self.code, self.msg = sub_code, sub_msg, code, msg

    def body(self) -> dict:
        return {"code": self.code, "msg": self.msg, "sub_code": self.sub_code, "sub_msg": self.sub_msg}


def _invalid(sub_msg: str) -> AlipayError:
    return AlipayError("isv.invalid-parameter", sub_msg, code="40002", msg="Invalid Arguments")


def _not_exist() -> AlipayError:
    return AlipayError("ACQ.TRADE_NOT_EXIST", "交易不存在")


@dataclass
class Refund:
    out_request_no: str
    amount_fen: int
    reason: str
    at: datetime


@dataclass
class Trade:
    out_trade_no: str
    amount_fen: int
    subject: str
    notify_url: str | None
    return_url: str | None
    expires_at: datetime
    token: str  # the cashier page's opaque id
    created_at: datetime
    opened: bool = False  # the payer opened the page or scanned: only now does Alipay know it
    status: str = WAIT_BUYER_PAY
    trade_no: str | None = None
    paid_at: datetime | None = None
    closed_at: datetime | None = None
    refunds: dict[str, Refund] = field(default_factory=dict)

    @property
    def refunded_fen(self) -> int:
        return sum(refund.amount_fen for refund in self.refunds.values())


class AlipaySandbox:
    """Alipay's side: trades, refunds, bills and notifications, safe to use from many threads."""

    def __init__(self, keys: SandboxKeys, time_scale: float = 1.0):
        self.keys = keys
        self.time_scale = time_scale
        self.faults = Faults()
        self.notifier = self._new_notifier()
        self._lock = threading.RLock()
        self._trades: dict[str, Trade] = {}
        self._tokens: dict[str, str] = {}
        self._bills: dict[str, tuple[date, float]] = {}
        self._sequence = itertools.count(1)

    def _new_notifier(self) -> Notifier:
        return Notifier(RETRY_SCHEDULE_SECONDS, lambda status, body: body.strip() == b"success",
                        self.faults, time_scale=self.time_scale)

    # -- the merchant's calls: handler(params, biz, base_url) -> answer body ----------------

    def precreate(self, params: dict, biz: dict, base_url: str) -> dict:
        """alipay.trade.precreate: a QR code; the trade starts when the payer scans it."""
        with self._lock:
            trade = self._start(params, biz)
            # Alipay's qr_code is https://qr.alipay.com/...; here it opens the sandbox cashier.
            return {"code": "10000", "msg": "Success", "out_trade_no": trade.out_trade_no,
                    "qr_code": f"{base_url}/cashier/{trade.token}"}

    def query(self, params: dict, biz: dict, base_url: str) -> dict:
        """alipay.trade.query."""
        with self._lock:
            trade = self._opened(biz)
            answer = {"code": "10000", "msg": "Success", "trade_no": trade.trade_no,
                      "out_trade_no": trade.out_trade_no, "buyer_logon_id": BUYER_LOGON_ID,
                      "trade_status": trade.status, "total_amount": _yuan(trade.amount_fen)}
            if trade.paid_at:
                amount = _yuan(trade.amount_fen)
                answer.update(buyer_pay_amount=amount, receipt_amount=amount,
                              send_pay_date=trade.paid_at.strftime(_TIME), buyer_user_id=BUYER_ID)
            return answer

    def close(self, params: dict, biz: dict, base_url: str) -> dict:
        """alipay.trade.close: only a trade waiting for the payer can be closed."""
        with self._lock:
            trade = self._opened(biz)
            if trade.status != WAIT_BUYER_PAY:
                raise AlipayError("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            self._close(trade)
            return {"code": "10000", "msg": "Success", "trade_no": trade.trade_no,
                    "out_trade_no": trade.out_trade_no}

    def refund(self, params: dict, biz: dict, base_url: str) -> dict:
        """alipay.trade.refund: repeated with the same out_request_no, it moves no money again."""
        with self._lock:
            trade = self._opened(biz)
            amount_fen = _fen(biz.get("refund_amount"))
            request_no = str(biz.get("out_request_no") or trade.out_trade_no)
            earlier = trade.refunds.get(request_no)
            if earlier is not None:
                if earlier.amount_fen != amount_fen:
                    raise _invalid("同一退款请求号的退款金额不一致")
                return self._refund_answer(trade, earlier, fund_change="N")
            if trade.status != TRADE_SUCCESS:
                raise AlipayError("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            if trade.refunded_fen + amount_fen > trade.amount_fen:
                raise AlipayError("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
            refund = Refund(request_no, amount_fen, str(biz.get("refund_reason") or ""), _now())
            trade.refunds[request_no] = refund
            if trade.refunded_fen == trade.amount_fen:
                trade.status, trade.closed_at = TRADE_CLOSED, refund.at  # all refunded: closed
            self._notify(trade, refund=refund)
            return self._refund_answer(trade, refund, fund_change="Y")

    @staticmethod
    def _refund_answer(trade: Trade, refund: Refund, fund_change: str) -> dict:
        return {"code": "10000", "msg": "Success", "trade_no": trade.trade_no,
                "out_trade_no": trade.out_trade_no, "buyer_logon_id": BUYER_LOGON_ID,
                "fund_change": fund_change, "refund_fee": _yuan(trade.refunded_fen),
                "gmt_refund_pay": refund.at.strftime(_TIME)}

    def refund_query(self, params: dict, biz: dict, base_url: str) -> dict:
        """alipay.trade.fastpay.refund.query: Success without refund fields when there is none."""
        with self._lock:
            trade = self._opened(biz)
            refund = trade.refunds.get(str(biz.get("out_request_no") or trade.out_trade_no))
            if refund is None:
                return {"code": "10000", "msg": "Success"}
            return {"code": "10000", "msg": "Success", "trade_no": trade.trade_no,
                    "out_trade_no": trade.out_trade_no, "out_request_no": refund.out_request_no,
                    "total_amount": _yuan(trade.amount_fen), "refund_amount": _yuan(refund.amount_fen),
                    "refund_status": "REFUND_SUCCESS", "gmt_refund_pay": refund.at.strftime(_TIME)}

    def bill_download_url(self, params: dict, biz: dict, base_url: str) -> dict:
        """alipay.data.dataservice.bill.downloadurl.query for daily trade bills."""
        if biz.get("bill_type") != "trade":
            raise _invalid("账单类型不支持")
        try:
            day = date.fromisoformat(str(biz.get("bill_date")))
        except ValueError:
            raise _invalid("账单时间格式不正确，日账单格式为yyyy-MM-dd") from None
        if day > _now().date():
            raise AlipayError("isp.bill_not_exist", "账单不存在")
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._bills[token] = (day, time.monotonic() + _BILL_URL_SECONDS)
        # Alipay's URL points at dwbillcenter.alipay.com/downloadBillFile.resource?...&token=...
        query = urlencode({"bizType": "trade", "bizDates": day.strftime("%Y%m%d"),
                           "fileType": "csv.zip", "token": token})
        return {"code": "10000", "msg": "Success",
                "bill_download_url": f"{base_url}/downloadBillFile.resource?{query}"}

    def bill(self, token: str) -> bytes | None:
        """The zip behind a download URL, or None when the URL is unknown or expired."""
        with self._lock:
            day, valid_until = self._bills.get(token, (None, 0.0))
            if day is None or time.monotonic() > valid_until:
                return None
            rows = self._bill_rows(day)
        return trade_bill_zip(day, SELLER_ID, rows, _now())

    def _bill_rows(self, day: date) -> list[BillRow]:
        rows = []
        for trade in self._trades.values():
            if trade.paid_at and trade.paid_at.date() == day:
                rows.append(BillRow(trade.trade_no, trade.out_trade_no, "交易", trade.subject,
                                    trade.created_at, trade.paid_at, BUYER_LOGON_ID, trade.amount_fen))
            rows.extend(BillRow(trade.trade_no, trade.out_trade_no, "退款", trade.subject, trade.created_at,
                                refund.at, BUYER_LOGON_ID, -refund.amount_fen, refund.out_request_no)
                        for refund in trade.refunds.values() if refund.at.date() == day)
        return self._faulty(day, sorted(rows, key=lambda row: row.finished_at))

    def _faulty(self, day: date, rows: list[BillRow]) -> list[BillRow]:
        """The bill's rows once the statement faults are applied (see ``Faults``)."""
        faults = self.faults
        payments = faulty_payments(faults, [r for r in rows if r.kind == "交易"], lambda r: r.out_trade_no,
                                   lambda r, delta: replace(r, amount_fen=r.amount_fen + delta))
        refunds = [r for r in rows if r.kind == "退款"]
        at = datetime(day.year, day.month, day.day, 12, tzinfo=_now().tzinfo)
        order_no, refund_no = unknown_numbers(day)
        if faults.statement_unknown_debit_fen:
            payments.append(BillRow(f"{day:%Y%m%d}22001400000000000001", order_no, "交易", "未知订单", at, at,
                                    BUYER_LOGON_ID, faults.statement_unknown_debit_fen))
        if faults.statement_unknown_refund_fen and payments:
            paid = payments[0]
            refunds.append(BillRow(paid.trade_no, paid.out_trade_no, "退款", paid.subject, paid.created_at, at,
                                   BUYER_LOGON_ID, -faults.statement_unknown_refund_fen, refund_no))
        return payments + refunds

    # -- the payer ------------------------------------------------------------------------------

    def open_wap(self, params: dict, biz: dict) -> Trade:
        """The payer's browser brings a signed alipay.trade.wap.pay request: the trade starts."""
        with self._lock:
            trade = self._start(params, biz)
            self._open(trade)
            return replace(trade)

    def open_cashier(self, token: str) -> Trade:
        """The payer scanned the QR code (or reloads the cashier page)."""
        with self._lock:
            trade = self._trades.get(self._tokens.get(token, ""))
            if trade is None:
                raise _not_exist()
            self._open(trade)
            return replace(trade)

    def trade_for(self, token: str) -> str:
        with self._lock:
            if token not in self._tokens:
                raise _not_exist()
            return self._tokens[token]

    def pay(self, out_trade_no: str) -> Trade:
        """The payer confirms (确认支付): the trade is paid and the merchant notified."""
        with self._lock:
            trade = self._payable(out_trade_no)
            self._open(trade)
            trade.status, trade.paid_at = TRADE_SUCCESS, _now()
            self._notify(trade)
            return replace(trade)

    def cancel(self, out_trade_no: str) -> Trade:
        """The payer cancels (取消): the sandbox closes the trade at once."""
        with self._lock:
            trade = self._payable(out_trade_no)
            self._open(trade)
            self._close(trade)
            return replace(trade)

    def return_params(self, trade: Trade) -> dict[str, str]:
        """The signed parameters Alipay appends to return_url after a wap payment."""
        return sign_params(self.keys.alipay_private, {
            "app_id": APP_ID, "auth_app_id": APP_ID, "charset": "utf-8", "version": "1.0",
            "method": "alipay.trade.wap.pay.return", "timestamp": _now().strftime(_TIME),
            "out_trade_no": trade.out_trade_no, "trade_no": trade.trade_no or "",
            "total_amount": _yuan(trade.amount_fen), "seller_id": SELLER_ID})

    # -- control --------------------------------------------------------------------------------

    def control_payload(self) -> str:
        return control_payload(self.faults, self.notifier)

    def reset(self) -> None:
        """Forget trades and bills, clear the faults, drop pending and past deliveries."""
        with self._lock:
            self._trades.clear()
            self._tokens.clear()
            self._bills.clear()
            self.faults.update(Faults().as_dict())
            old, self.notifier = self.notifier, self._new_notifier()
        old.stop()

    def stop(self) -> None:
        self.notifier.stop()

    # -- inside ---------------------------------------------------------------------------------

    def _start(self, params: dict, biz: dict) -> Trade:
        """The trade for a precreate or wap request: new, or the same one asked again."""
        out_trade_no = str(biz.get("out_trade_no") or "")
        subject = str(biz.get("subject") or "")
        if not out_trade_no or not subject:
            raise AlipayError("isv.missing-parameter", "缺少必选参数 out_trade_no 或 subject",
                              code="40001", msg="Missing Required Arguments")
        amount_fen = _fen(biz.get("total_amount"))
        trade = self._trades.get(out_trade_no)
        if trade is not None:
            self._expire_if_due(trade)
            if trade.amount_fen != amount_fen:
                raise AlipayError("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
            if trade.status == TRADE_SUCCESS:
                raise AlipayError("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
            if trade.status == TRADE_CLOSED:
                raise AlipayError("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
            return trade
        now = _now()
        trade = Trade(out_trade_no, amount_fen, subject, params.get("notify_url") or None,
                      params.get("return_url") or None, _expiry(biz, now), secrets.token_urlsafe(12), now)
        self._trades[out_trade_no] = trade
        self._tokens[trade.token] = out_trade_no
        return trade

    def _open(self, trade: Trade) -> None:
        if not trade.opened:
            trade.opened = True
            trade.trade_no = f"{_now():%Y%m%d}22001{next(self._sequence):015d}"
        self._expire_if_due(trade)

    def _opened(self, biz: dict) -> Trade:
        trade = self._trades.get(str(biz.get("out_trade_no") or ""))
        if trade is None or not trade.opened:
            raise _not_exist()
        self._expire_if_due(trade)
        return trade

    def _payable(self, out_trade_no: str) -> Trade:
        trade = self._trades.get(out_trade_no)
        if trade is None:
            raise _not_exist()
        self._expire_if_due(trade)
        if trade.status != WAIT_BUYER_PAY:
            raise AlipayError("ACQ.TRADE_STATUS_ERROR", f"交易状态为 {trade.status}，不能支付")
        return trade

    def _expire_if_due(self, trade: Trade) -> None:
        if trade.status == WAIT_BUYER_PAY and _now() >= trade.expires_at:
            if trade.opened:
                self._close(trade)
            else:
                trade.status, trade.closed_at = TRADE_CLOSED, _now()  # never a trade at Alipay

    def _close(self, trade: Trade) -> None:
        trade.status, trade.closed_at = TRADE_CLOSED, _now()
        self._notify(trade)

    def _notify(self, trade: Trade, refund: Refund | None = None) -> None:
        """Queue the notification of the trade as it is now (the snapshot survives retries)."""
        if not trade.notify_url:
            return
        notify_id = uuid.uuid4().hex
        fields = {
            "notify_type": "trade_status_sync", "notify_id": notify_id, "app_id": APP_ID,
            "auth_app_id": APP_ID, "charset": "utf-8", "version": "1.0", "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no, "buyer_id": BUYER_ID, "buyer_logon_id": BUYER_LOGON_ID,
            "seller_id": SELLER_ID, "seller_email": "sandbox-seller@example.com",
            "trade_status": trade.status,
            "total_amount": _yuan(trade.amount_fen + self.faults.notify_amount_delta_fen),
            "subject": trade.subject, "gmt_create": trade.created_at.strftime(_TIME),
        }
        if trade.paid_at:
            amount = _yuan(trade.amount_fen)
            fields.update(gmt_payment=trade.paid_at.strftime(_TIME), receipt_amount=amount,
                          invoice_amount=amount, buyer_pay_amount=amount, point_amount="0.00",
                          fund_bill_list=f'[{{"amount":"{amount}","fundChannel":"ALIPAYACCOUNT"}}]')
        if trade.closed_at:
            fields["gmt_close"] = trade.closed_at.strftime(_TIME)
        if refund is not None:
            fields.update(refund_fee=_yuan(trade.refunded_fen), out_biz_no=refund.out_request_no,
                          gmt_refund=refund.at.strftime(_TIME) + f".{refund.at.microsecond // 1000:03d}")
        private_key = self.keys.alipay_private

        def build() -> tuple[dict, bytes]:
            # Signed again at each attempt: notify_time is the time of sending.
            signed = sign_params(private_key, {**fields, "notify_time": _now().strftime(_TIME)})
            return ({"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                    urlencode(signed).encode("ascii"))

        self.notifier.send(notify_id, trade.notify_url, build)


def _now() -> datetime:
    return datetime.now(SHANGHAI)


def _fen(text: object) -> int:
    """An amount from the merchant: yuan with at most two decimals, 0.01 to 100000000."""
    text = str(text or "")
    if not _AMOUNT.fullmatch(text) or not Decimal("0.01") <= Decimal(text) <= Decimal("100000000"):
        raise _invalid(f"金额格式不正确: {text}")
    return int(Decimal(text) * 100)


def _yuan(fen: int) -> str:
    whole, part = divmod(fen, 100)
    return f"{whole}.{part:02d}"


def _expiry(biz: dict, now: datetime) -> datetime:
    """time_expire (absolute, Beijing time) or timeout_express (90m, 2h, 1d)."""
    if biz.get("time_expire"):
        try:
            return datetime.strptime(str(biz["time_expire"]), _TIME).replace(tzinfo=SHANGHAI)
        except ValueError:
            raise _invalid("time_expire 格式为 yyyy-MM-dd HH:mm:ss") from None
    if biz.get("timeout_express"):
        match = _TIMEOUT_EXPRESS.fullmatch(str(biz["timeout_express"]))
        if not match:
            raise _invalid("timeout_express 格式不正确")
        unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
        return now + timedelta(**{unit: int(match.group(1))})
    return now + DEFAULT_TIMEOUT
