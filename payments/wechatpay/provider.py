"""WeChat Pay API v3 adapter (直连商户, public-key mode) through the ``wechatpayv3`` SDK.

Settings, the keyword arguments of ``build``:

    mchid                     merchant number (商户号)
    appid                     AppID of the official account the payers pay in (公众号 AppID)
    merchant_serial_no        serial number of the merchant API certificate (商户API证书序列号)
    private_key               merchant API private key, PKCS#8 PEM text (apiclient_key.pem) ...
    private_key_file          ... or the path of a file holding it (give one of the two)
    apiv3_key                 the 32-character APIv3 key, which decrypts notifications ...
    apiv3_key_file            ... or the path of a file holding it
    platform_public_key       WeChat Pay public key (微信支付公钥), PEM text ...
    platform_public_key_file  ... or the path of a file holding it
    platform_public_key_id    that key's id, "PUB_KEY_ID_..."; answers and notifications name it
                              in ``Wechatpay-Serial``
    gateway_url               API base URL, default https://api.mch.weixin.qq.com
    timeout_seconds           HTTP timeout of each call, default 10
    jsapi_pay_url_template    optional URL with a ``{prepay_id}`` placeholder: when set, JSAPI
                              prepay results also carry ``pay_url``, a page where a browser
                              without WeChat can finish paying (the sandbox cashier). Leave it
                              unset against the real WeChat Pay.

Public-key mode (``public_key`` + ``public_key_id``) needs no platform-certificate download, so
the SDK object is built offline. Provider trouble never raises: calls answer UNKNOWN for
timeouts, 5xx, 429 and answers the SDK could not verify, FAIL where WeChat refused with a 4xx.
The exception is ``statement``, whose list answer has no UNKNOWN: it raises
``StatementUnavailable`` instead, so a reconciliation run fails and is run again.

The SDK is imported when a provider is built, not with this module: the production settings
check imports each configured factory, and a process that never pays must not load the SDK.
"""
from __future__ import annotations

import gzip
import hashlib
import inspect
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization

from payments.base import (Acknowledgement, CloseResult, IncomingNotification, Notification,
                           PrepayRequest, PrepayResult, RefundRequest, RefundResult, ResultState,
                           StatementLine, StatementUnavailable, TradeResult)
from payments.wechatpay.bill import SHANGHAI, BillFormatError, parse_trade_bill
from payments.wechatpay.states import REFUND_STATES, TRADE_STATES, fen_of, moment

if TYPE_CHECKING:
    from wechatpayv3 import WeChatPay

log = logging.getLogger(__name__)

GATEWAY_URL = "https://api.mch.weixin.qq.com"

ERROR_CODES = {
    "ORDERPAID": "order_paid",
    "ORDERCLOSED": "order_closed",
    "ORDER_NOT_EXIST": "order_not_exist",
    "RESOURCE_NOT_EXISTS": "not_found",
    "SIGN_ERROR": "sign_error",
}


@dataclass(frozen=True)
class _Answer:
    """One API call's outcome. ``status`` is None when there is no answer we can trust."""

    status: int | None
    data: dict = field(default_factory=dict)
    provider_code: str | None = None  # WeChat's own error code, e.g. ORDERPAID
    error_code: str | None = None
    error_message: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def refused(self) -> bool:
        # 429 (FREQUENCY_LIMITED) says "not now", not "no": like a 5xx it leaves things unknown.
        return self.status is not None and 400 <= self.status < 500 and self.status != 429


def _read_secret(name: str, value: str | None, file: str | Path | None) -> str:
    if (value is None) == (file is None):
        raise ValueError(f"give exactly one of {name} and {name}_file")
    return value if value is not None else Path(file).read_text(encoding="utf-8")


def _point_at_gateway(sdk: WeChatPay, gateway_url: str) -> None:
    # wechatpayv3 has no public setting for the base URL: Core keeps it in the private attribute
    # _gate_way (core.py, Core.__init__), which Core.request prefixes to every path. This is the
    # one place that reaches into the SDK.
    sdk._core._gate_way = gateway_url


def _as_text(content: str | bytes) -> str:
    return content.decode("utf-8") if isinstance(content, bytes) else content


class WeChatPayProvider:
    """WeChat Pay JSAPI and Native payments, refunds, notifications and the daily bill."""

    code = "wechatpay"
    methods = frozenset({"jsapi", "native"})

    def __init__(self, *, mchid: str, appid: str, merchant_serial_no: str, private_key: str,
                 apiv3_key: str, platform_public_key: str, platform_public_key_id: str,
                 gateway_url: str = GATEWAY_URL, timeout_seconds: float = 10.0,
                 jsapi_pay_url_template: str | None = None):
        # the SDK, and the notification reader built on its verification pieces, load with the first provider
        from wechatpayv3 import WeChatPay, WeChatPayType

        from payments.wechatpay.notifications import NotificationReader

        self._appid = appid
        self._pay_types = {"jsapi": WeChatPayType.JSAPI, "native": WeChatPayType.NATIVE}
        self._notifications = NotificationReader(mchid=mchid, appid=appid, apiv3_key=apiv3_key,
                                                 platform_public_key=platform_public_key,
                                                 platform_public_key_id=platform_public_key_id)
        if jsapi_pay_url_template is not None:
            jsapi_pay_url_template.format(prepay_id="")  # a bad template fails at start, not per payment
        self._jsapi_pay_url_template = jsapi_pay_url_template
        self._sdk = WeChatPay(wechatpay_type=WeChatPayType.NATIVE, mchid=mchid,
                              private_key=private_key, cert_serial_no=merchant_serial_no,
                              appid=appid, apiv3_key=apiv3_key, timeout=timeout_seconds,
                              public_key=platform_public_key, public_key_id=platform_public_key_id)
        _point_at_gateway(self._sdk, gateway_url.rstrip("/"))

    # -- calls ---------------------------------------------------------------------------

    def _call(self, operation: str, subject: str, call, **kwargs) -> _Answer:
        try:
            status, content = call(**kwargs)
        except requests.Timeout as exc:
            answer = _Answer(None, error_code="timeout", error_message=str(exc))
        except requests.RequestException as exc:
            answer = _Answer(None, error_code="network_error", error_message=str(exc))
        except Exception as exc:  # the SDK raises bare Exception, e.g. on an answer it cannot verify
            answer = _Answer(None, error_code="sdk_error", error_message=str(exc))
        else:
            answer = self._read_answer(status, content)
        if not answer.succeeded:
            # A plain refusal is business as usual (ORDERPAID, ORDER_NOT_EXIST); trouble is not.
            level = logging.INFO if answer.refused else logging.WARNING
            log.log(level, "wechatpay %s %s: status=%s code=%s %s", operation, subject,
                    answer.status, answer.error_code, answer.error_message)
        return answer

    @staticmethod
    def _read_answer(status: int, content: str | bytes) -> _Answer:
        try:
            text = _as_text(content)
            data = json.loads(text) if text.strip() else {}
        except (UnicodeDecodeError, ValueError):
            data = None
        if 200 <= status < 300:
            if not isinstance(data, dict):
                return _Answer(None, error_code="unreadable_answer", error_message=f"HTTP {status}")
            return _Answer(status, data)
        data = data if isinstance(data, dict) else {}
        code = data.get("code") if isinstance(data.get("code"), str) else None
        return _Answer(status, data, provider_code=code,
                       error_code=ERROR_CODES.get(code, code.lower()) if code else f"http_{status}",
                       error_message=str(data.get("message") or f"HTTP {status}"))

    # -- payments ------------------------------------------------------------------------

    def prepay(self, request: PrepayRequest) -> PrepayResult:
        """Open a JSAPI or Native payment (统一下单)."""
        if request.method not in self.methods:
            return PrepayResult(ResultState.FAIL, error_code="unsupported_method",
                                error_message=f"wechatpay cannot take {request.method!r}")
        if request.method == "jsapi" and not request.payer_ref:
            return PrepayResult(ResultState.FAIL, error_code="payer_required",
                                error_message="JSAPI needs the payer's openid")
        # The SDK raises for these before sending anything; refusing here keeps that a FAIL.
        if not request.notify_url or not request.description:
            return PrepayResult(ResultState.FAIL, error_code="invalid_request",
                                error_message="WeChat Pay needs a notify URL and a description")
        answer = self._call(
            "prepay", request.order_no, self._sdk.pay,
            description=request.description, out_trade_no=request.order_no,
            amount={"total": request.amount_fen, "currency": "CNY"},
            payer={"openid": request.payer_ref} if request.method == "jsapi" else None,
            time_expire=request.expires_at.astimezone(SHANGHAI).isoformat(timespec="seconds"),
            notify_url=request.notify_url,
            scene_info={"payer_client_ip": request.client_ip} if request.client_ip else None,
            pay_type=self._pay_types[request.method])
        if answer.refused:
            return PrepayResult(ResultState.FAIL, error_code=answer.error_code,
                                error_message=answer.error_message)
        if not answer.succeeded:
            return PrepayResult(ResultState.UNKNOWN, error_code=answer.error_code,
                                error_message=answer.error_message)
        if request.method == "native":
            code_url = answer.data.get("code_url")
            if not isinstance(code_url, str) or not code_url:
                return PrepayResult(ResultState.UNKNOWN, error_code="unreadable_answer",
                                    error_message="no code_url in the answer")
            return PrepayResult(ResultState.WAITING, qr_code=code_url)
        prepay_id = answer.data.get("prepay_id")
        if not isinstance(prepay_id, str) or not prepay_id:
            return PrepayResult(ResultState.UNKNOWN, error_code="unreadable_answer",
                                error_message="no prepay_id in the answer")
        pay_url = (self._jsapi_pay_url_template.format(prepay_id=prepay_id)
                   if self._jsapi_pay_url_template else None)
        return PrepayResult(ResultState.WAITING, app_params=self._choose_wx_pay_params(prepay_id),
                            pay_url=pay_url, provider_ref=prepay_id)

    def _choose_wx_pay_params(self, prepay_id: str) -> dict[str, str]:
        """The parameters of WeixinJSBridge getBrandWCPayRequest / wx.chooseWXPay."""
        params = {"appId": self._appid, "timeStamp": str(int(time.time())),
                  "nonceStr": secrets.token_hex(16), "package": f"prepay_id={prepay_id}",
                  "signType": "RSA"}
        # WeChat signs the four values one per line; the SDK's sign() does exactly that.
        params["paySign"] = self._sdk.sign([params["appId"], params["timeStamp"],
                                            params["nonceStr"], params["package"]])
        return params

    def query(self, order_no: str) -> TradeResult:
        """Query by our order number (商户订单号查询订单)."""
        answer = self._call("query", order_no, self._sdk.query, out_trade_no=order_no)
        if answer.succeeded:
            return self._trade_result(order_no, answer.data)
        if answer.status == 404:
            return TradeResult(ResultState.FAIL, order_no, provider_state=answer.provider_code,
                               error_code=answer.error_code, error_message=answer.error_message)
        # Any other refusal (bad signature, bad parameters) tells nothing about the payment.
        return TradeResult(ResultState.UNKNOWN, order_no, error_code=answer.error_code,
                           error_message=answer.error_message)

    @staticmethod
    def _trade_result(order_no: str, data: dict) -> TradeResult:
        trade_state = data.get("trade_state")
        if data.get("out_trade_no") != order_no or trade_state not in TRADE_STATES:
            return TradeResult(ResultState.UNKNOWN, order_no, provider_state=str(trade_state),
                               error_code="unreadable_answer",
                               error_message="answer names another order or an unknown state")
        return TradeResult(TRADE_STATES[trade_state], order_no,
                           amount_fen=fen_of(data.get("amount"), "total"),
                           provider_trade_no=data.get("transaction_id") or None,
                           paid_at=moment(data.get("success_time")), provider_state=trade_state)

    def close(self, order_no: str) -> CloseResult:
        """Close an unpaid order (关闭订单); WeChat answers ORDERPAID when it was paid."""
        answer = self._call("close", order_no, self._sdk.close, out_trade_no=order_no)
        if answer.succeeded or answer.provider_code == "ORDER_NOT_EXIST":
            return CloseResult(ResultState.SUCCESS)
        state = ResultState.FAIL if answer.refused else ResultState.UNKNOWN
        return CloseResult(state, error_code=answer.error_code, error_message=answer.error_message)

    # -- refunds -------------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundResult:
        """Apply for a refund (申请退款); WeChat refunds once per out_refund_no, so a retry is safe."""
        answer = self._call(
            "refund", request.refund_no, self._sdk.refund,
            out_refund_no=request.refund_no,
            amount={"refund": request.amount_fen, "total": request.total_fen, "currency": "CNY"},
            transaction_id=request.provider_trade_no, out_trade_no=request.order_no,
            reason=request.reason or None, notify_url=request.notify_url)
        return self._refund_result(request.order_no, request.refund_no, answer, missing_is_fail=False)

    def query_refund(self, order_no: str, refund_no: str) -> RefundResult:
        """Query one refund by our refund number (查询单笔退款)."""
        answer = self._call("query_refund", refund_no, self._sdk.query_refund, out_refund_no=refund_no)
        return self._refund_result(order_no, refund_no, answer, missing_is_fail=True)

    @staticmethod
    def _refund_result(order_no: str, refund_no: str, answer: _Answer,
                       missing_is_fail: bool) -> RefundResult:
        if answer.succeeded:
            status = answer.data.get("status")
            if answer.data.get("out_refund_no") != refund_no or status not in REFUND_STATES:
                return RefundResult(ResultState.UNKNOWN, order_no, refund_no,
                                    provider_state=str(status), error_code="unreadable_answer",
                                    error_message="answer names another refund or an unknown state")
            return RefundResult(REFUND_STATES[status], order_no, refund_no,
                                amount_fen=fen_of(answer.data.get("amount"), "refund"),
                                provider_refund_no=answer.data.get("refund_id") or None,
                                provider_state=status)
        # A refund query that finds nothing means no refund exists; other refusals of a query
        # tell nothing about the refund. Refusing the refund itself is a plain FAIL.
        refused = answer.status == 404 if missing_is_fail else answer.refused
        return RefundResult(ResultState.FAIL if refused else ResultState.UNKNOWN, order_no, refund_no,
                            provider_state=answer.provider_code, error_code=answer.error_code,
                            error_message=answer.error_message, not_found=missing_is_fail and refused)

    # -- notifications -------------------------------------------------------------------

    def parse_notification(self, incoming: IncomingNotification) -> Notification:
        """Verify and decrypt a payment or refund notification (支付/退款结果通知)."""
        return self._notifications.read(incoming)

    def acknowledge(self, handled: bool) -> Acknowledgement:
        """204 with no body when handled; a 4xx with a FAIL body asks WeChat to send it again.

        WeChat retries on any 4xx or 5xx; we answer 400 so that a refused notification is never a server error.
        """
        if handled:
            return Acknowledgement(status=204, body=b"", content_type="application/json")
        body = json.dumps({"code": "FAIL", "message": "失败"}, ensure_ascii=False).encode("utf-8")
        return Acknowledgement(status=400, body=body, content_type="application/json")

    # -- statement -----------------------------------------------------------------------

    def statement(self, day: date) -> list[StatementLine]:
        """The ALL trade bill of one day (申请交易账单, then 下载账单)."""
        answer = self._call("statement", day.isoformat(), self._sdk.trade_bill,
                            bill_date=day.isoformat())
        if answer.provider_code == "NO_STATEMENT_EXIST":
            return []  # WeChat's word for a day without a single trade
        if not answer.succeeded:
            raise StatementUnavailable(f"bill of {day}: {answer.error_code} {answer.error_message}")
        try:
            raw = self._download_bill(answer.data)
            return parse_trade_bill(raw.decode("utf-8"))
        except (BillFormatError, UnicodeDecodeError) as exc:
            raise StatementUnavailable(f"bill of {day} unreadable: {exc}") from exc

    def _download_bill(self, ticket: dict) -> bytes:
        download_url = ticket.get("download_url")
        hash_type = str(ticket.get("hash_type", "")).lower()
        if not isinstance(download_url, str) or hash_type not in ("sha1", "sha256"):
            raise StatementUnavailable("bill answer lacks download_url or hash")
        # Only the path goes to the SDK: it signs it and sends it to our own gateway, so our
        # Authorization never leaves for another host.
        parts = urlsplit(download_url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            status, content = self._sdk.download_bill(path)
        except Exception as exc:  # requests' errors and the SDK's bare Exception alike
            raise StatementUnavailable(f"bill download failed: {exc}") from exc
        content = content.encode("utf-8") if isinstance(content, str) else content
        if status != 200:
            raise StatementUnavailable(f"bill download answered HTTP {status}")
        # The file is not signed (download_bill skips verification); its digest, taken before
        # compression, comes in the signed answer above.
        try:
            raw = gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content
        except (OSError, EOFError) as exc:
            raise StatementUnavailable(f"bill file is not a readable gzip: {exc}") from exc
        digest = hashlib.new(hash_type, raw).hexdigest()
        if digest != str(ticket.get("hash_value", "")).lower():
            raise StatementUnavailable("bill digest does not match")
        return raw


def check_settings(*, private_key: str | None = None, private_key_file: str | Path | None = None,
                   apiv3_key: str | None = None, apiv3_key_file: str | Path | None = None,
                   platform_public_key: str | None = None, platform_public_key_file: str | Path | None = None,
                   **settings) -> None:
    """What ``build`` refuses, without the SDK (``cryptography`` loads the keys as the SDK would):
    the production settings check calls it at start. Raises ValueError or TypeError naming the setting."""
    given = {"private_key": _read_secret("private_key", private_key, private_key_file),
             "apiv3_key": _read_secret("apiv3_key", apiv3_key, apiv3_key_file).strip(),
             "platform_public_key": _read_secret("platform_public_key", platform_public_key,
                                                 platform_public_key_file)}
    inspect.signature(WeChatPayProvider).bind(**given, **settings)  # TypeError: a setting missing or unknown
    if len(given["apiv3_key"].encode("utf-8")) != 32:
        raise ValueError("apiv3_key: the APIv3 key must be 32 bytes (AEAD_AES_256_GCM)")
    try:
        serialization.load_pem_private_key(_as_pem(given["private_key"], "PRIVATE KEY").encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"private_key: not an unencrypted PKCS#8 private key ({exc})") from exc
    try:
        serialization.load_pem_public_key(_as_pem(given["platform_public_key"], "PUBLIC KEY").encode())
    except ValueError as exc:
        raise ValueError(f"platform_public_key: not a public key ({exc})") from exc
    if settings.get("jsapi_pay_url_template") is not None:
        settings["jsapi_pay_url_template"].format(prepay_id="")


def _as_pem(text: str, label: str) -> str:
    # what the SDK's format_private_key / format_public_key do before loading: bare base64 is accepted
    text = text.strip()
    begin, end = f"-----BEGIN {label}-----\n", f"\n-----END {label}-----"
    return (text if text.startswith(begin) else begin + text) + ("" if text.endswith(end) else end)


def build(*, private_key: str | None = None, private_key_file: str | Path | None = None,
          apiv3_key: str | None = None, apiv3_key_file: str | Path | None = None,
          platform_public_key: str | None = None, platform_public_key_file: str | Path | None = None,
          **settings) -> WeChatPayProvider:
    """The registry's factory: secrets inline or from files, the rest as in the module docstring."""
    return WeChatPayProvider(
        private_key=_read_secret("private_key", private_key, private_key_file),
        apiv3_key=_read_secret("apiv3_key", apiv3_key, apiv3_key_file).strip(),
        platform_public_key=_read_secret("platform_public_key", platform_public_key,
                                         platform_public_key_file),
        **settings)
