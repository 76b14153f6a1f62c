"""The WeChat Pay sandbox gateway: WeChat Pay API v3's side of the protocol, as a Flask app.

It checks every /v3 request's WECHATPAY2-SHA256-RSA2048 Authorization against the merchant's
public key and answers 401 SIGN_ERROR when it does not hold; signs every answer with the
platform key (Wechatpay-* headers); keeps orders and refunds in memory; shows a cashier page
where a person pays or cancels; sends encrypted, signed notifications and retries them on
WeChat's documented schedule compressed by ``time_scale``; serves the daily
trade bill; and carries the standard /_control endpoints for tests and people.

What it fakes or simplifies:
  * Native ``code_url`` is an http URL of the cashier page; the real one is
    ``weixin://wxpay/bizpayurl?pr=...`` and only opens in WeChat.
  * Refunds answer PROCESSING and succeed ``REFUND_SETTLE_SECONDS`` (scaled) later.
  * An order may be closed at once (WeChat asks for 5 minutes after creation); http notify
    URLs are accepted (WeChat wants https); today's bill is available at once (WeChat's comes
    the next morning); the bill charges no fee.
  * The payer backing out of the cashier leaves the order NOTPAY, as WeChat does.
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import re
import secrets
import threading
import time
import uuid
from datetime import date, datetime
from pathlib import Path

from flask import Flask, Response, request

from payments.sandbox.common import Faults, Notifier, control_payload, faulty_payments, unknown_numbers
from payments.sandbox.wechatpay.bill import trade_bill
from payments.sandbox.wechatpay.cashier import render_cashier
from payments.sandbox.wechatpay.keys import (SandboxKeys, check_authorization, notification_body,
                                             signed_headers)
from payments.sandbox.wechatpay.ledger import SHANGHAI, GatewayError, Ledger, Order, Refund

# WeChat Pay's documented notification retries: 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m,
# 60m, 3h, 3h, 3h, 6h, 6h (about 24 h in all).
RETRY_SCHEDULE_SECONDS = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600,
                          10800, 10800, 10800, 21600, 21600]
REFUND_SETTLE_SECONDS = 3.0
OUT_TRADE_NO = re.compile(r"^[0-9A-Za-z_\-|*]{6,32}$")


def _acknowledged(status: int, body: bytes) -> bool:
    return 200 <= status < 300  # WeChat takes any 2xx as handled, whatever the body


class Gateway:
    """The sandbox's state: keys, books, fault switches, notifier and refund timers."""

    def __init__(self, keys: SandboxKeys, time_scale: float):
        self.keys = keys
        self.time_scale = time_scale
        self.ledger = Ledger()
        self.faults = Faults()
        self.notifier = self._new_notifier()
        self._bills: dict[str, bytes] = {}
        self._timers: list[threading.Timer] = []
        self._lock = threading.Lock()

    def _new_notifier(self) -> Notifier:
        return Notifier(RETRY_SCHEDULE_SECONDS, _acknowledged, self.faults, time_scale=self.time_scale)

    def reset(self) -> None:
        """Forget orders, refunds, bills, faults and deliveries, and drop queued notifications."""
        old, self.notifier = self.notifier, self._new_notifier()
        old.stop()
        for item in dataclasses.fields(Faults):
            setattr(self.faults, item.name, item.default)
        self._cancel_timers()
        self.ledger.clear()
        with self._lock:
            self._bills.clear()

    def shutdown(self) -> None:
        self.notifier.stop()
        self._cancel_timers()

    def _cancel_timers(self) -> None:
        with self._lock:
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()

    @staticmethod
    def now() -> datetime:
        return datetime.now(SHANGHAI)

    # -- what the payer does ---------------------------------------------------------------

    def pay(self, out_trade_no: str) -> Order:
        order, newly_paid = self.ledger.pay(out_trade_no, self.now())
        if newly_paid:
            resource = order.as_transaction()
            if self.faults.notify_amount_delta_fen:  # a correctly signed notification with a wrong amount
                resource["amount"] = {**resource["amount"],
                                      "total": resource["amount"]["total"] + self.faults.notify_amount_delta_fen}
            self._notify(order.notify_url, "TRANSACTION.SUCCESS", "支付成功", "transaction", resource)
        return order

    # -- refunds ---------------------------------------------------------------------------

    def settle_later(self, refund: Refund) -> None:
        timer = threading.Timer(REFUND_SETTLE_SECONDS * self.time_scale, self._settle,
                                args=(refund.out_refund_no,))
        timer.daemon = True
        with self._lock:
            self._timers = [t for t in self._timers if t.is_alive()] + [timer]
        timer.start()

    def _settle(self, out_refund_no: str) -> None:
        refund = self.ledger.settle_refund(out_refund_no, self.now())
        if refund and refund.notify_url:
            self._notify(refund.notify_url, "REFUND.SUCCESS", "退款成功", "refund",
                         refund.as_notification_resource(self.keys.mchid))

    # -- notifications and answers ---------------------------------------------------------

    def _notify(self, url: str, event_type: str, summary: str, original_type: str,
                resource: dict) -> None:
        notification_id = str(uuid.uuid4())
        # Encrypted once: every retry carries the same body and id, signed afresh.
        body = notification_body(self.keys, event_type, summary, original_type, resource,
                                 notification_id=notification_id)

        def build() -> tuple[dict, bytes]:
            headers = signed_headers(self.keys, body)
            headers["Content-Type"] = "application/json"
            return headers, body.encode("utf-8")

        self.notifier.send(notification_id, url, build)

    def answer(self, status: int, data: dict | None = None) -> Response:
        """A signed API answer; None gives the empty body of a 204."""
        body = "" if data is None else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        headers = {**signed_headers(self.keys, body), "Request-ID": str(uuid.uuid4())}
        return Response(body, status=status, headers=headers,
                        content_type="application/json; charset=utf-8")

    def statement_book(self, day: date) -> tuple[list[Order], list[tuple[Refund, Order]]]:
        """The day's payments and refunds as the bill lists them, statement faults applied."""
        payments, refunds = self.ledger.day_book(day)
        faults = self.faults
        payments = faulty_payments(faults, payments, lambda o: o.out_trade_no,
                                   lambda o, delta: dataclasses.replace(o, total=o.total + delta))
        at = datetime(day.year, day.month, day.day, 12, tzinfo=SHANGHAI)
        order_no, refund_no = unknown_numbers(day)
        if faults.statement_unknown_debit_fen:
            payments.append(Order(out_trade_no=order_no, appid=self.keys.appid, mchid=self.keys.mchid,
                                  description="未知订单", total=faults.statement_unknown_debit_fen, trade_type="NATIVE",
                                  notify_url="", prepay_id="", created_at=at, trade_state="SUCCESS",
                                  transaction_id=f"4200000000{day:%Y%m%d}0000000001", success_time=at))
        if faults.statement_unknown_refund_fen and payments:
            paid = payments[0]
            refunds.append((Refund(out_refund_no=refund_no, refund_id=f"5000000000{day:%Y%m%d}00000000001",
                                   out_trade_no=paid.out_trade_no, transaction_id=paid.transaction_id,
                                   refund=faults.statement_unknown_refund_fen, total=paid.total, reason=None,
                                   notify_url=None, create_time=at, status="SUCCESS", success_time=at), paid))
        return payments, refunds

    def store_bill(self, content: bytes) -> str:
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._bills[token] = content
        return token

    def bill(self, token: str) -> bytes | None:
        with self._lock:
            return self._bills.get(token)


def _signed_uri() -> str:
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        # WSGI servers hand the raw request target over as latin-1 text.
        return raw.encode("latin-1").decode("utf-8", "replace")
    query = request.query_string.decode()
    return request.path + (f"?{query}" if query else "")


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise GatewayError(400, "PARAM_ERROR", "请求体不是合法的JSON对象")
    return data


def _fen(section: object, key: str) -> int:
    value = section.get(key) if isinstance(section, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise GatewayError(400, "PARAM_ERROR", f"amount.{key} 必须是正整数（单位：分）")
    return value


def _json_answer(payload: str | dict, status: int = 200) -> Response:
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return Response(text, status=status, mimetype="application/json")


def create_sandbox_app(key_dir: Path, time_scale: float = 1.0) -> Flask:
    """The sandbox gateway app; keys are made in ``key_dir`` on first start."""
    gateway = Gateway(SandboxKeys.ensure(key_dir), time_scale)
    keys = gateway.keys
    app = Flask(__name__)
    app.extensions["wechatpay_sandbox"] = gateway

    @app.before_request
    def guard_api():
        if not request.path.startswith("/v3/"):
            return None
        if gateway.faults.api_delay_seconds:
            time.sleep(gateway.faults.api_delay_seconds)  # real seconds: it races our timeout
        if gateway.faults.api_5xx:
            return _json_answer({"code": "SYSTEM_ERROR", "message": "系统繁忙，请稍后重试"}, 500)
        problem = check_authorization(keys, request.headers.get("Authorization", ""),
                                      request.method, _signed_uri(), request.get_data(as_text=True))
        if problem:
            return gateway.answer(401, {"code": "SIGN_ERROR", "message": problem})
        return None

    @app.errorhandler(GatewayError)
    def refused(error: GatewayError):
        payload = {"code": error.code, "message": error.message}
        if request.path.startswith("/v3/"):
            return gateway.answer(error.status, payload)
        return _json_answer(payload, error.status)

    @app.errorhandler(404)
    def not_found(error):
        return _json_answer({"code": "NOT_FOUND", "message": "无此接口"}, 404)

    # -- 下单 / 查询 / 关单 -------------------------------------------------------------------

    def open_order(trade_type: str) -> Order:
        data = _json_body()
        if data.get("appid") != keys.appid or data.get("mchid") != keys.mchid:
            raise GatewayError(400, "APPID_MCHID_NOT_MATCH", "appid和mchid不匹配")
        out_trade_no = data.get("out_trade_no")
        description = data.get("description")
        notify_url = data.get("notify_url")
        if not isinstance(out_trade_no, str) or not OUT_TRADE_NO.match(out_trade_no):
            raise GatewayError(400, "PARAM_ERROR", "out_trade_no 须为6-32位字母、数字或_-|*")
        if not isinstance(description, str) or not 1 <= len(description) <= 127:
            raise GatewayError(400, "PARAM_ERROR", "description 长度须为1-127")
        if not isinstance(notify_url, str) or not notify_url.startswith(("http://", "https://")):
            raise GatewayError(400, "PARAM_ERROR", "notify_url 不是合法的URL")
        amount = data.get("amount")
        total = _fen(amount, "total")
        if amount.get("currency", "CNY") != "CNY":
            raise GatewayError(400, "PARAM_ERROR", "仅支持人民币（CNY）")
        time_expire = None
        if data.get("time_expire") is not None:
            try:
                time_expire = datetime.fromisoformat(data["time_expire"])
            except (TypeError, ValueError):
                raise GatewayError(400, "PARAM_ERROR", "time_expire 不是RFC3339时间") from None
            if time_expire.tzinfo is None:
                raise GatewayError(400, "PARAM_ERROR", "time_expire 须带时区")
        openid = None
        if trade_type == "JSAPI":
            payer = data.get("payer")
            openid = payer.get("openid") if isinstance(payer, dict) else None
            if not isinstance(openid, str) or not openid:
                raise GatewayError(400, "PARAM_ERROR", "JSAPI下单须提供 payer.openid")
        prepay_id = "wx" + gateway.now().strftime("%d%H%M%S") + secrets.token_hex(14)
        return gateway.ledger.open_order(Order(
            out_trade_no=out_trade_no, appid=keys.appid, mchid=keys.mchid, description=description,
            total=total, trade_type=trade_type, notify_url=notify_url, prepay_id=prepay_id,
            created_at=gateway.now(), time_expire=time_expire, openid=openid,
            attach=data.get("attach") if isinstance(data.get("attach"), str) else None))

    @app.post("/v3/pay/transactions/jsapi")
    def jsapi_prepay():
        return gateway.answer(200, {"prepay_id": open_order("JSAPI").prepay_id})

    @app.post("/v3/pay/transactions/native")
    def native_prepay():
        order = open_order("NATIVE")
        # The real code_url is weixin://wxpay/bizpayurl?pr=...; this one opens the cashier page.
        return gateway.answer(200, {"code_url": f"{request.host_url.rstrip('/')}/cashier/{order.prepay_id}"})

    @app.get("/v3/pay/transactions/out-trade-no/<out_trade_no>")
    def query_order(out_trade_no: str):
        if request.args.get("mchid") != keys.mchid:
            raise GatewayError(400, "PARAM_ERROR", "mchid 与商户号不符")
        return gateway.answer(200, gateway.ledger.order(out_trade_no).as_transaction())

    @app.post("/v3/pay/transactions/out-trade-no/<out_trade_no>/close")
    def close_order(out_trade_no: str):
        if _json_body().get("mchid") != keys.mchid:
            raise GatewayError(400, "PARAM_ERROR", "mchid 与商户号不符")
        gateway.ledger.close(out_trade_no)
        return gateway.answer(204)

    # -- 退款 -----------------------------------------------------------------------------

    @app.post("/v3/refund/domestic/refunds")
    def apply_refund():
        data = _json_body()
        out_refund_no = data.get("out_refund_no")
        if not isinstance(out_refund_no, str) or not 1 <= len(out_refund_no) <= 64:
            raise GatewayError(400, "PARAM_ERROR", "缺少 out_refund_no")
        if not (data.get("transaction_id") or data.get("out_trade_no")):
            raise GatewayError(400, "PARAM_ERROR", "transaction_id 与 out_trade_no 须填其一")
        amount = data.get("amount")
        refund, created = gateway.ledger.refund(
            out_refund_no, data.get("out_trade_no"), data.get("transaction_id"),
            _fen(amount, "refund"), _fen(amount, "total"), data.get("reason"),
            data.get("notify_url"), gateway.now())
        if created:
            gateway.settle_later(refund)
        return gateway.answer(200, refund.as_answer())

    @app.get("/v3/refund/domestic/refunds/<out_refund_no>")
    def query_refund(out_refund_no: str):
        return gateway.answer(200, gateway.ledger.refund_of(out_refund_no).as_answer())

    # -- 账单 -----------------------------------------------------------------------------

    @app.get("/v3/bill/tradebill")
    def apply_trade_bill():
        try:
            day = datetime.strptime(request.args.get("bill_date", ""), "%Y-%m-%d").date()
        except ValueError:
            raise GatewayError(400, "PARAM_ERROR", "bill_date 格式须为 YYYY-MM-DD") from None
        bill_type = request.args.get("bill_type", "ALL")
        tar_type = request.args.get("tar_type")
        if bill_type not in ("ALL", "SUCCESS", "REFUND") or tar_type not in (None, "GZIP"):
            raise GatewayError(400, "PARAM_ERROR", "bill_type 或 tar_type 取值有误")
        payments, refunds = gateway.statement_book(day)
        if not payments and not refunds:
            raise GatewayError(400, "NO_STATEMENT_EXIST", "账单文件不存在")
        raw = trade_bill(payments, refunds, bill_type).encode("utf-8")
        # The digest is over the plain file, before compression.
        token = gateway.store_bill(gzip.compress(raw) if tar_type == "GZIP" else raw)
        return gateway.answer(200, {
            "download_url": f"{request.host_url.rstrip('/')}/v3/billdownload/file?token={token}",
            "hash_type": "SHA1", "hash_value": hashlib.sha1(raw).hexdigest()})

    @app.get("/v3/billdownload/file")
    def download_bill():
        content = gateway.bill(request.args.get("token", ""))
        if content is None:
            raise GatewayError(400, "INVALID_REQUEST", "下载链接无效或已过期")
        return Response(content, mimetype="application/octet-stream")  # unsigned, as WeChat's

    # -- 收银台 ---------------------------------------------------------------------------

    @app.get("/cashier/<prepay_id>")
    def cashier(prepay_id: str):
        order = gateway.ledger.order_by_prepay_id(prepay_id)
        if order is None:
            return render_cashier(None, "订单不存在或已失效", warn=True), 404
        return render_cashier(order)

    @app.post("/cashier/<prepay_id>/confirm")
    def cashier_confirm(prepay_id: str):
        order = gateway.ledger.order_by_prepay_id(prepay_id)
        if order is None:
            return render_cashier(None, "订单不存在或已失效", warn=True), 404
        try:
            return render_cashier(gateway.pay(order.out_trade_no), "支付成功")
        except GatewayError as error:
            return render_cashier(order, error.message, warn=True), 409

    @app.post("/cashier/<prepay_id>/cancel")
    def cashier_cancel(prepay_id: str):
        order = gateway.ledger.order_by_prepay_id(prepay_id)
        if order is None:
            return render_cashier(None, "订单不存在或已失效", warn=True), 404
        return render_cashier(gateway.ledger.cancel(order.out_trade_no), "已取消支付", warn=True)

    # -- /_control ------------------------------------------------------------------------

    @app.get("/_control")
    def control_state():
        return _json_answer(control_payload(gateway.faults, gateway.notifier))

    @app.post("/_control/faults")
    def control_faults():
        try:
            gateway.faults.update(request.get_json(silent=True) or {})
        except (KeyError, TypeError, ValueError) as exc:
            return _json_answer({"code": "PARAM_ERROR", "message": f"unknown fault {exc}"}, 400)
        return _json_answer(control_payload(gateway.faults, gateway.notifier))

    @app.post("/_control/reset")
    def control_reset():
        gateway.reset()
        return _json_answer(control_payload(gateway.faults, gateway.notifier))

    @app.post("/_control/orders/<order_no>/pay")
    def control_pay(order_no: str):
        order = gateway.pay(order_no)
        return _json_answer({"order_no": order.out_trade_no, "trade_state": order.trade_state,
                             "transaction_id": order.transaction_id})

    @app.post("/_control/orders/<order_no>/cancel")
    def control_cancel(order_no: str):
        order = gateway.ledger.cancel(order_no)
        return _json_answer({"order_no": order.out_trade_no, "trade_state": order.trade_state,
                             "payer_cancelled": order.payer_cancelled})

    return app


def shutdown_sandbox(app: Flask) -> None:
    """Stop the app's notifier and refund timers (the server itself is stopped by its owner)."""
    app.extensions["wechatpay_sandbox"].shutdown()
