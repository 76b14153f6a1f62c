"""The UnionPay sandbox gateway: ACP 5.1.0 endpoints, the cashier page, control endpoints.

Endpoints, as the real gateway's: ``/gateway/api/backTransReq.do`` (QR order txnType 01/07,
refund 04, undo 31), ``/gateway/api/queryTrans.do`` (txnType 00) and ``/fileTransfer.do``
(txnType 76; the real one is https://filedownload.95516.com/). Requests are form POSTs signed
by the merchant (certId = serial of the merchant certificate in key_dir); a wrong certId or
signature is answered respCode 11 (验证签名失败). Answers are raw ``k=v&...`` text signed with
UnionPay's sandbox certificate, which travels in ``signPubKeyCert``.

What the sandbox simplifies: an unpaid QR order answers a query with origRespCode 05 and its
own queryId (so an undo can name it; the real gateway may answer 34 until the payer pays);
refunds succeed at once; undo closes unpaid orders only; notifications are sent for payments
and refunds, not for undos; each trade settles on its own calendar day.
"""
from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response, abort, jsonify, render_template_string, request

from payments.sandbox.common import Faults, Notifier, control_payload, faulty_payments, unknown_numbers
from payments.sandbox.unionpay import reconciliation
from payments.sandbox.unionpay.ledger import (
    CANCELLED, CLOSED, PAID, SHANGHAI, Ledger, LedgerRefusal, Order, Refund, now_in_shanghai, settle_day,
)
from payments.sandbox.unionpay.pki import MER_ID, Pki, ensure_pki
from payments.unionpay import acp

# UnionPay retries an unacknowledged back notification after 1, 2, 4, 8 and 16 minutes: the
# commonly documented schedule (five retries, then it stops)
RETRY_SCHEDULE_SECONDS = [60, 120, 240, 480, 960]

TIME_FORMAT = "%Y%m%d%H%M%S"
SUCCESS_MSG = "成功[0000000]"


def _acknowledged(status: int, body: bytes) -> bool:
    return status == 200


class Gateway:
    """The sandbox's state: keys, books, fault switches and the notification sender."""

    def __init__(self, pki: Pki, time_scale: float):
        self.pki = pki
        self.time_scale = time_scale
        self.ledger = Ledger()
        self.faults = Faults()
        self.notifier = self._new_notifier()
        self._merchant_key = pki.merchant_cert.public_key()
        self._merchant_cert_id = str(pki.merchant_cert.serial_number)
        self._cert_id = str(pki.sign_cert.serial_number)

    def _new_notifier(self) -> Notifier:
        return Notifier(RETRY_SCHEDULE_SECONDS, _acknowledged, self.faults, time_scale=self.time_scale)

    def reset(self) -> None:
        old, self.notifier = self.notifier, self._new_notifier()
        old.stop()  # drops notifications still waiting for a retry
        self.ledger.clear()
        self.faults.update(Faults().as_dict())

    def stop(self) -> None:
        self.notifier.stop()

    # -- messages ---------------------------------------------------------------------------

    def signed(self, fields: dict[str, str | None]) -> dict[str, str]:
        return acp.sign({**fields, "signPubKeyCert": self.pki.sign_cert_pem}, self.pki.sign_key, self._cert_id)

    def answer(self, request_fields: dict[str, str], code: str, message: str, **extra: str | None) -> str:
        echoed = {k: request_fields.get(k) for k in ("version", "encoding", "signMethod", "bizType", "txnType",
                                                     "txnSubType", "accessType", "merId", "orderId", "txnTime")}
        signed = self.signed({**echoed, "respCode": code, "respMsg": message, **extra})
        # UnionPay answers with raw values, not URL-encoded
        return "&".join(f"{k}={v}" for k, v in signed.items())

    def refusal(self, fields: dict[str, str]) -> tuple[str, str] | None:
        """Why a request is refused before it is read, as (respCode, respMsg), or None."""
        if fields.get("version") != acp.VERSION or fields.get("signMethod") != acp.SIGN_METHOD_RSA:
            return "10", "报文格式错误[version/signMethod]"
        if fields.get("certId") != self._merchant_cert_id or not acp.verify_with_key(fields, self._merchant_key):
            return "11", "验证签名失败"
        if fields.get("merId") != MER_ID:
            return "31", "商户状态不正确"
        return None

    def notify(self, query_id: str, url: str | None, fields: dict[str, str | None]) -> None:
        if not url:
            return
        if self.faults.notify_amount_delta_fen and fields.get("txnAmt"):
            fields = {**fields, "txnAmt": str(int(fields["txnAmt"]) + self.faults.notify_amount_delta_fen)}
        body = urlencode(self.signed(fields)).encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
        self.notifier.send(query_id, url, lambda: (headers, body))

    def _trade_fields(self, at: datetime, trace_no: str) -> dict[str, str]:
        return {"version": acp.VERSION, "encoding": "UTF-8", "signMethod": acp.SIGN_METHOD_RSA, "bizType": "000000",
                "accessType": "0", "merId": MER_ID, "currencyCode": "156", "settleCurrencyCode": "156",
                "settleDate": at.strftime("%m%d"), "traceNo": trace_no, "traceTime": at.strftime("%m%d%H%M%S"),
                "respCode": "00", "respMsg": SUCCESS_MSG}

    def payment_fields(self, order: Order) -> dict[str, str]:
        return {**self._trade_fields(order.paid_at, order.trace_no), "txnType": "01", "txnSubType": "07",
                "orderId": order.order_no, "txnTime": order.txn_time, "txnAmt": str(order.amount_fen),
                "settleAmt": str(order.amount_fen), "queryId": order.pay_query_id}

    def refund_fields(self, refund: Refund) -> dict[str, str | None]:
        return {**self._trade_fields(refund.at, refund.trace_no), "txnType": "04", "txnSubType": "00",
                "orderId": refund.refund_no, "txnTime": refund.txn_time, "txnAmt": str(refund.amount_fen),
                "settleAmt": str(refund.amount_fen), "queryId": refund.query_id, "origQryId": refund.orig_qry_id,
                "reqReserved": refund.req_reserved}

    # -- the payer ----------------------------------------------------------------------------

    def pay(self, order_no: str) -> Order:
        order = self.ledger.pay(order_no)
        self.notify(order.pay_query_id, order.back_url, self.payment_fields(order))
        return order

    def cancel(self, order_no: str) -> Order:
        return self.ledger.cancel(order_no)

    # -- the API ------------------------------------------------------------------------------

    def back_trans(self, fields: dict[str, str]) -> str:
        kind = (fields.get("txnType"), fields.get("txnSubType"))
        try:
            if kind == ("01", "07"):
                return self._open_qr_order(fields)
            if fields.get("txnType") == "04":
                return self._refund(fields)
            if fields.get("txnType") == "31":
                order = self.ledger.undo(fields.get("origQryId", ""))
                return self.answer(fields, "00", SUCCESS_MSG, queryId=order.query_id)
        except LedgerRefusal as refusal:
            return self.answer(fields, refusal.code, refusal.message)
        return self.answer(fields, "32", "无此交易权限")

    def _open_qr_order(self, fields: dict[str, str]) -> str:
        missing = [k for k in ("orderId", "txnTime", "txnAmt", "backUrl", "currencyCode", "channelType")
                   if not fields.get(k)]
        if missing:
            return self.answer(fields, "13", f"报文交易要素缺失[{','.join(missing)}]")
        order_id, amount, txn_time = fields["orderId"], fields["txnAmt"], fields["txnTime"]
        pay_timeout = _time(fields.get("payTimeout")) if fields.get("payTimeout") else None
        if (not (order_id.isascii() and order_id.isalnum() and 8 <= len(order_id) <= 40)
                or not (amount.isascii() and amount.isdigit() and int(amount) > 0) or _time(txn_time) is None
                or (fields.get("payTimeout") and pay_timeout is None) or fields["currencyCode"] != "156"):
            return self.answer(fields, "10", "报文格式错误")
        order = self.ledger.open_order(order_id, int(amount), txn_time, fields["backUrl"], pay_timeout)
        qr_code = f"{request.host_url}qr/{order.token}"
        return self.answer(fields, "00", SUCCESS_MSG, qrCode=qr_code)

    def _refund(self, fields: dict[str, str]) -> str:
        amount = fields.get("txnAmt", "")
        if not (fields.get("orderId") and fields.get("origQryId") and amount.isascii() and amount.isdigit()
                and _time(fields.get("txnTime", "")) is not None):
            return self.answer(fields, "13", "报文交易要素缺失")
        refund = self.ledger.refund(fields["orderId"], fields["origQryId"], int(amount), fields["txnTime"],
                                    fields.get("backUrl"), fields.get("reqReserved"))
        self.notify(refund.query_id, refund.back_url, self.refund_fields(refund))
        return self.answer(fields, "00", SUCCESS_MSG, queryId=refund.query_id, origQryId=refund.orig_qry_id)

    def query(self, fields: dict[str, str]) -> str:
        order_id, txn_time = fields.get("orderId", ""), fields.get("txnTime")
        # the real gateway needs orderId + txnTime; the sandbox also finds an orderId alone
        order, refund = self.ledger.order(order_id), self.ledger.refund_record(order_id)
        record = order or refund
        if record is None or (txn_time and txn_time != record.txn_time):
            return self.answer(fields, "34", "查无此交易")
        if refund is not None:
            return self.answer(fields, "00", SUCCESS_MSG, origRespCode="00", origRespMsg=SUCCESS_MSG,
                               **_extra(self.refund_fields(refund)))
        if order.state == PAID:
            return self.answer(fields, "00", SUCCESS_MSG, origRespCode="00", origRespMsg=SUCCESS_MSG,
                               **_extra(self.payment_fields(order)))
        if order.state in (CANCELLED, CLOSED) or order.expired(now_in_shanghai()):
            why = {CANCELLED: "付款人已取消", CLOSED: "订单已撤销"}.get(order.state, "订单已超过支付时间")
            return self.answer(fields, "00", SUCCESS_MSG, origRespCode="01", origRespMsg=f"交易失败[{why}]",
                               queryId=order.query_id, txnAmt=str(order.amount_fen), txnTime=order.txn_time)
        return self.answer(fields, "00", SUCCESS_MSG, origRespCode="05", origRespMsg="交易已受理，请稍后查询交易结果",
                           queryId=order.query_id, txnAmt=str(order.amount_fen), txnTime=order.txn_time)

    def statement_book(self, day, payments: list[Order], refunds: list[Refund]) -> tuple[list[Order], list[Refund]]:
        """The day's payments and refunds as the file lists them, statement faults applied."""
        faults = self.faults
        payments = faulty_payments(faults, payments, lambda o: o.order_no,
                                   lambda o, delta: dataclasses.replace(o, amount_fen=o.amount_fen + delta))
        at = datetime(day.year, day.month, day.day, 12, tzinfo=SHANGHAI)
        order_no, refund_no = unknown_numbers(day)
        if faults.statement_unknown_debit_fen:
            payments.append(Order(order_no=order_no, amount_fen=faults.statement_unknown_debit_fen,
                                  txn_time=f"{day:%Y%m%d}120000", back_url="", pay_timeout=None, token="",
                                  query_id=f"{day:%Y%m%d}1200000000001", state=PAID,
                                  pay_query_id=f"{day:%Y%m%d}1200000000002", trace_no="000001", paid_at=at))
        if faults.statement_unknown_refund_fen and payments:
            paid = payments[0]
            refunds = [*refunds, Refund(refund_no=refund_no, order_no=paid.order_no,
                                        amount_fen=faults.statement_unknown_refund_fen, txn_time=f"{day:%Y%m%d}120001",
                                        back_url=None, req_reserved=paid.order_no,
                                        query_id=f"{day:%Y%m%d}1200010000003", orig_qry_id=paid.pay_query_id or "",
                                        trace_no="000002", at=at)]
        return payments, refunds

    def file_transfer(self, fields: dict[str, str]) -> str:
        mmdd = fields.get("settleDate", "")
        if (fields.get("txnType"), fields.get("txnSubType"), fields.get("fileType")) != ("76", "01", "00"):
            return self.answer(fields, "10", "报文格式错误")
        try:
            day = settle_day(mmdd, now_in_shanghai().date())
        except ValueError:
            return self.answer(fields, "10", "报文格式错误[settleDate]")
        payments, refunds = self.statement_book(day, *self.ledger.settled_on(mmdd))
        if not payments and not refunds:
            return self.answer(fields, "98", "文件不存在")
        name, content = reconciliation.file_content(day, MER_ID, payments, refunds)
        return self.answer(fields, "00", SUCCESS_MSG, settleDate=mmdd, fileType="00", fileName=name,
                           fileContent=content)


def _extra(trade: dict[str, str | None]) -> dict[str, str | None]:
    keep = ("queryId", "origQryId", "txnAmt", "settleAmt", "settleDate", "settleCurrencyCode", "currencyCode",
            "traceNo", "traceTime", "txnTime", "reqReserved")
    return {k: trade.get(k) for k in keep}


def _time(text: str | None) -> datetime | None:
    try:
        return datetime.strptime(text or "", TIME_FORMAT).replace(tzinfo=SHANGHAI)
    except ValueError:
        return None


CASHIER_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>银联云闪付（沙箱）</title>
<style>
body{font-family:sans-serif;background:#f4f4f4;margin:0;padding:2em 1em}
main{max-width:26em;margin:auto;background:#fff;border-radius:8px;padding:1.5em;box-shadow:0 1px 4px #0002}
h1{color:#d7000f;font-size:1.3em;margin-top:0} .amount{font-size:2em;margin:.5em 0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.3em 1em;color:#555} dd{margin:0;word-break:break-all}
form{display:inline} button{font-size:1em;padding:.6em 1.4em;margin:1em .5em 0 0;border:0;border-radius:4px}
.pay{background:#d7000f;color:#fff} .cancel{background:#ddd} .note{color:#555}
</style></head><body><main>
<h1>银联云闪付 · 沙箱收银台</h1>
<div class="amount">¥{{ amount }}</div>
<dl><dt>商户号</dt><dd>{{ mer_id }}</dd><dt>订单号</dt><dd>{{ order.order_no }}</dd>
<dt>状态</dt><dd>{{ state }}</dd></dl>
{% if message %}<p class="note">{{ message }}</p>{% endif %}
{% if payable %}
<form method="post"><input type="hidden" name="action" value="pay"><button class="pay">确认支付</button></form>
<form method="post"><input type="hidden" name="action" value="cancel"><button class="cancel">取消</button></form>
{% endif %}
<p class="note">这是测试环境，不会发生真实扣款。</p>
</main></body></html>"""

STATE_WORDS = {"unpaid": "待支付", PAID: "已支付", CANCELLED: "已取消", CLOSED: "已关闭"}


def create_sandbox_app(key_dir: Path, time_scale: float = 1.0) -> Flask:
    """The UnionPay sandbox as a Flask app; its keys and certificates live in ``key_dir``."""
    gateway = Gateway(ensure_pki(Path(key_dir)), time_scale)
    app = Flask(__name__)
    app.extensions["unionpay_sandbox"] = gateway

    def api(handler):
        def view():
            faults = gateway.faults
            if faults.api_delay_seconds:
                time.sleep(faults.api_delay_seconds)
            if faults.api_5xx:
                return Response("Internal Server Error", 500, content_type="text/plain")
            fields = request.form.to_dict()
            refused = gateway.refusal(fields)
            text = gateway.answer(fields, *refused) if refused else handler(fields)
            return Response(text, content_type="text/plain; charset=UTF-8")
        view.__name__ = handler.__name__
        return view

    app.add_url_rule("/gateway/api/backTransReq.do", view_func=api(gateway.back_trans), methods=["POST"])
    app.add_url_rule("/gateway/api/queryTrans.do", view_func=api(gateway.query), methods=["POST"])
    app.add_url_rule("/fileTransfer.do", view_func=api(gateway.file_transfer), methods=["POST"])

    @app.route("/qr/<token>", methods=["GET", "POST"])
    def cashier(token: str):
        order = gateway.ledger.order_by_token(token)
        if order is None:
            abort(404)
        message = None
        if request.method == "POST":
            try:
                if request.form.get("action") == "pay":
                    order, message = gateway.pay(order.order_no), "支付成功"
                else:
                    order, message = gateway.cancel(order.order_no), "已取消支付"
            except LedgerRefusal as refusal:
                order, message = gateway.ledger.order(order.order_no), refusal.message
        expired = order.expired(now_in_shanghai())
        return render_template_string(
            CASHIER_PAGE, order=order, mer_id=MER_ID, amount=f"{order.amount_fen // 100}.{order.amount_fen % 100:02d}",
            state="已过期" if expired else STATE_WORDS[order.state], message=message,
            payable=order.state == "unpaid" and not expired)

    @app.get("/_control")
    def control_state():
        return Response(control_payload(gateway.faults, gateway.notifier), content_type="application/json")

    @app.post("/_control/faults")
    def control_faults():
        try:
            gateway.faults.update(request.get_json(force=True) or {})
        except (KeyError, TypeError, ValueError) as exc:
            return jsonify(error="bad_fault", detail=str(exc)), 400
        return Response(control_payload(gateway.faults, gateway.notifier), content_type="application/json")

    @app.post("/_control/reset")
    def control_reset():
        gateway.reset()
        return Response(control_payload(gateway.faults, gateway.notifier), content_type="application/json")

    @app.post("/_control/orders/<order_no>/<action>")
    def control_order(order_no: str, action: str):
        if action not in ("pay", "cancel"):
            abort(404)
        try:
            order = gateway.pay(order_no) if action == "pay" else gateway.cancel(order_no)
        except LedgerRefusal as refusal:
            status = 404 if refusal.code == "34" else 409
            return jsonify(order_no=order_no, error=refusal.code, message=refusal.message), status
        return jsonify(order_no=order.order_no, state=order.state, query_id=order.pay_query_id,
                       amount_fen=order.amount_fen)

    return app
