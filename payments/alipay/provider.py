"""Alipay (支付宝) behind the payment port, through python-alipay-sdk (``import alipay``).

Methods: ``wap`` (手机网站支付, alipay.trade.wap.pay: a signed URL the payer's browser opens)
and ``qr`` (当面付扫码, alipay.trade.precreate: a QR text the payer scans). Query, close,
refund, refund query and the daily trade bill are the SDK's synchronous calls; the SDK checks
Alipay's RSA2 signature over the raw JSON text of ``<method>_response``. Notifications are
verified with the SDK's ``verify`` and must then name our app id and seller id.

Settings, the keyword arguments of ``build``:
    app_id             the application's APPID on the open platform
    seller_id          the merchant's Alipay user id (PID, ``2088...``); notifications must name it
    app_private_key    our application private key: PEM text, or the path of a PEM file
    alipay_public_key  Alipay's public key (not our application's own public key): PEM or path
    gateway_url        the open-platform gateway, default ``https://openapi.alipay.com/gateway.do``
    timeout_seconds    socket timeout of each call to Alipay, default 10

Keys must be PEM with their ``-----BEGIN`` line; the key tool of Alipay's console prints bare
base64, which the SDK cannot load.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping
from urllib.error import HTTPError, URLError
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import requests
from cryptography.hazmat.primitives import serialization

from payments.alipay.amounts import fen, yuan
from payments.alipay.bill import BillUnreadable, parse_trade_bill
from payments.base import (
    Acknowledgement,
    CloseResult,
    IncomingNotification,
    Notification,
    NotificationRejected,
    PrepayRequest,
    PrepayResult,
    RefundRequest,
    RefundResult,
    ResultState,
    StatementLine,
    StatementUnavailable,
    TradeResult,
)

if TYPE_CHECKING:  # the SDK itself is imported when the provider is built (payments/alipay/sdk.py)
    from alipay import AliPay
    from alipay.exceptions import AliPayException

log = logging.getLogger(__name__)

DEFAULT_GATEWAY = "https://openapi.alipay.com/gateway.do"
SHANGHAI = ZoneInfo("Asia/Shanghai")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_MAX_TIMEOUT_MINUTES = 15 * 24 * 60  # timeout_express may not exceed 15d

_TRADE_STATES = {
    "TRADE_SUCCESS": ResultState.SUCCESS,
    "TRADE_FINISHED": ResultState.SUCCESS,  # paid, and no longer refundable
    "WAIT_BUYER_PAY": ResultState.WAITING,
    "TRADE_CLOSED": ResultState.FAIL,  # expired or closed unpaid (or fully refunded)
}
# Business answers that mean "try again later" rather than "no".
_RETRY_LATER = {"ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR"}




def build(*, app_id: str, seller_id: str, app_private_key: str, alipay_public_key: str,
          gateway_url: str = DEFAULT_GATEWAY, timeout_seconds: float = 10.0) -> "AlipayProvider":
    """The Alipay provider from plain settings (see the module docstring)."""
    private_pem, public_pem = _keys(app_private_key, alipay_public_key)
    from payments.alipay import sdk  # the SDK, loaded by the first Alipay client a process builds

    client = sdk.client(app_id=str(app_id), app_private_key=private_pem, alipay_public_key=public_pem,
                        gateway_url=gateway_url, timeout_seconds=timeout_seconds)
    return AlipayProvider(client, app_id=str(app_id), seller_id=str(seller_id),
                          gateway_url=gateway_url, timeout_seconds=timeout_seconds)


def check_settings(*, app_id: str, seller_id: str, app_private_key: str, alipay_public_key: str,
                   gateway_url: str = DEFAULT_GATEWAY, timeout_seconds: float = 10.0) -> None:
    """What ``build`` refuses, without the SDK: the production settings check calls it at start."""
    _keys(app_private_key, alipay_public_key)


def _keys(app_private_key: str, alipay_public_key: str) -> tuple[str, str]:
    """Both keys as PEM text, each loadable; raises ValueError naming the setting."""
    private_pem = _pem(app_private_key, "app_private_key")
    public_pem = _pem(alipay_public_key, "alipay_public_key")
    try:
        own_public = serialization.load_pem_private_key(private_pem.encode(), password=None).public_key()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"app_private_key: not an unencrypted PEM private key ({exc})") from exc
    try:
        alipay_public = serialization.load_pem_public_key(public_pem.encode())
    except ValueError as exc:
        raise ValueError(f"alipay_public_key: not a PEM public key ({exc})") from exc
    if _spki(own_public) == _spki(alipay_public):
        # The most common Alipay misconfiguration: nothing from Alipay would ever verify.
        raise ValueError("alipay_public_key is our own application public key; it must be Alipay's")
    return private_pem, public_pem


@dataclass(frozen=True)
class _Answer:
    """A synchronous answer: Alipay's verified ``<method>_response`` object, or why none came."""

    body: Mapping[str, Any] | None = None
    trouble: str | None = None
    detail: str = ""

    @property
    def succeeded(self) -> bool:
        return self.body is not None and self.body.get("code") == "10000"

    @property
    def sub_code(self) -> str | None:
        return (self.body or {}).get("sub_code")

    @property
    def error_code(self) -> str | None:
        body = self.body or {}
        return body.get("sub_code") or body.get("code") or self.trouble

    @property
    def error_message(self) -> str | None:
        body = self.body or {}
        return body.get("sub_msg") or body.get("msg") or self.detail or None

    def refusal_state(self) -> ResultState:
        """FAIL where Alipay clearly said no; UNKNOWN where it could not say (or we could not hear)."""
        if self.body is None or self.body.get("code") == "20000":  # 20000: service unavailable
            return ResultState.UNKNOWN
        sub_code = self.sub_code or ""
        if sub_code in _RETRY_LATER or sub_code.startswith("isp."):  # isp.*: Alipay's own trouble
            return ResultState.UNKNOWN
        return ResultState.FAIL


class AlipayProvider:
    """Alipay wap and QR payments."""

    code = "alipay"
    methods = frozenset({"wap", "qr"})

    def __init__(self, client: AliPay, *, app_id: str, seller_id: str, gateway_url: str,
                 timeout_seconds: float):
        self._client = client
        self._app_id = app_id
        self._seller_id = seller_id
        self._gateway_url = gateway_url
        self._timeout = timeout_seconds

    # -- paying -------------------------------------------------------------------------------

    def prepay(self, request: PrepayRequest) -> PrepayResult:
        """Open a payment: a signed pay URL (wap) or a QR text (qr)."""
        if request.method not in self.methods:
            return PrepayResult(ResultState.FAIL, error_code="unsupported_method",
                                error_message=f"Alipay offers {sorted(self.methods)}, not {request.method!r}")
        if request.amount_fen <= 0:
            return PrepayResult(ResultState.FAIL, error_code="invalid_amount",
                                error_message="the amount must be at least one fen")
        minutes = int((request.expires_at - datetime.now(SHANGHAI)).total_seconds() // 60)
        if minutes < 1:  # Alipay's shortest timeout is one minute
            return PrepayResult(ResultState.FAIL, error_code="order_expired",
                                error_message="the order expires within a minute")
        if request.method == "wap":
            return self._wap(request)
        return self._qr(request, min(minutes, _MAX_TIMEOUT_MINUTES))

    def _wap(self, request: PrepayRequest) -> PrepayResult:
        try:
            signed = self._client.api_alipay_trade_wap_pay(
                subject=request.description, out_trade_no=request.order_no,
                total_amount=yuan(request.amount_fen), return_url=request.return_url,
                notify_url=request.notify_url,
                time_expire=request.expires_at.astimezone(SHANGHAI).strftime(_TIME_FORMAT))
        except Exception as exc:  # signing is local: only a broken key can get here
            log.exception("alipay: signing the wap request for %s failed", request.order_no)
            return PrepayResult(ResultState.UNKNOWN, error_code="signing_failed", error_message=str(exc))
        # Nothing has reached Alipay yet: the payer's browser carries this signed request to the
        # gateway, which shows the cashier and creates the trade then.
        return PrepayResult(ResultState.WAITING, pay_url=f"{self._gateway_url}?{signed}")

    def _qr(self, request: PrepayRequest, minutes: int) -> PrepayResult:
        answer = self._call("alipay.trade.precreate", lambda: self._client.api_alipay_trade_precreate(
            subject=request.description, out_trade_no=request.order_no,
            total_amount=yuan(request.amount_fen), notify_url=request.notify_url,
            timeout_express=f"{minutes}m"))
        if not answer.succeeded:
            return PrepayResult(answer.refusal_state(), error_code=answer.error_code,
                                error_message=answer.error_message)
        qr_code = answer.body.get("qr_code")
        if not qr_code:
            return PrepayResult(ResultState.UNKNOWN, error_code="unreadable_answer",
                                error_message="precreate answered without qr_code")
        # Alipay's own qr_code is https://qr.alipay.com/...; whatever it is, the payer scans it.
        return PrepayResult(ResultState.WAITING, qr_code=qr_code)

    def query(self, order_no: str) -> TradeResult:
        """Ask Alipay how a payment stands (alipay.trade.query)."""
        answer = self._call("alipay.trade.query",
                            lambda: self._client.api_alipay_trade_query(out_trade_no=order_no))
        if answer.succeeded:
            return self._trade_result(order_no, answer.body)
        if answer.sub_code == "ACQ.TRADE_NOT_EXIST":
            # Alipay creates the trade only when the payer opens the wap page or scans the QR.
            return TradeResult(ResultState.WAITING, order_no, provider_state="TRADE_NOT_EXIST")
        # A refused query says nothing about the payment itself.
        return TradeResult(ResultState.UNKNOWN, order_no, error_code=answer.error_code,
                           error_message=answer.error_message)

    def _trade_result(self, order_no: str, body: Mapping[str, Any]) -> TradeResult:
        status = body.get("trade_status")
        state = _TRADE_STATES.get(status)
        if state is None or body.get("out_trade_no", order_no) != order_no:
            return TradeResult(ResultState.UNKNOWN, order_no, provider_state=status,
                               error_code="unreadable_answer",
                               error_message="unknown trade_status or another order's answer")
        try:
            amount_fen = fen(body.get("total_amount", ""))
        except ValueError as exc:
            return TradeResult(ResultState.UNKNOWN, order_no, provider_state=status,
                               error_code="unreadable_answer", error_message=str(exc))
        return TradeResult(state, order_no, amount_fen=amount_fen,
                           provider_trade_no=body.get("trade_no"),
                           paid_at=_time(body.get("send_pay_date")) if state is ResultState.SUCCESS else None,
                           provider_state=status)

    def close(self, order_no: str) -> CloseResult:
        """Close an unpaid payment (alipay.trade.close)."""
        answer = self._call("alipay.trade.close",
                            lambda: self._client.api_alipay_trade_close(out_trade_no=order_no))
        if answer.succeeded:
            return CloseResult(ResultState.SUCCESS)
        if answer.sub_code == "ACQ.TRADE_NOT_EXIST":
            # The payer never opened it, so Alipay holds no trade to close; the time_expire /
            # timeout_express sent with the prepay ends the pay URL or QR code on its own.
            return CloseResult(ResultState.SUCCESS)
        if answer.sub_code == "ACQ.TRADE_STATUS_ERROR":
            # Paid, or closed already: the answer does not say which, the trade query does.
            trade = self.query(order_no)
            if trade.state is ResultState.SUCCESS:
                return CloseResult(ResultState.FAIL, error_code="order_paid",
                                   error_message="the payer has paid this order")
            if trade.state is ResultState.FAIL:
                return CloseResult(ResultState.SUCCESS)
            return CloseResult(ResultState.UNKNOWN, error_code=trade.error_code or answer.sub_code,
                               error_message=trade.error_message or answer.error_message)
        return CloseResult(answer.refusal_state(), error_code=answer.error_code,
                           error_message=answer.error_message)

    # -- notifications ------------------------------------------------------------------------

    def parse_notification(self, incoming: IncomingNotification) -> Notification:
        """Verify an asynchronous notification (form POST) and decode it."""
        try:
            return self._parse_notification(incoming)
        except NotificationRejected as exc:
            log.warning("alipay: notification rejected: %s %s", exc.reason, exc.detail)
            raise

    def _parse_notification(self, incoming: IncomingNotification) -> Notification:
        params = _form_params(incoming)
        sign = params.pop("sign", "")
        if not sign:
            raise NotificationRejected("missing_signature")
        signed = dict(params)  # ``verify`` pops sign_type from what it is given
        try:
            # Signed text: sorted k=v of the URL-decoded parameters without sign and sign_type.
            verified = self._client.verify(signed, sign)
        except Exception as exc:  # wrong sign_type (AliPayException), sign not base64, ...
            raise NotificationRejected("bad_signature", type(exc).__name__) from exc
        if not verified:
            raise NotificationRejected("bad_signature")
        if params.get("app_id") != self._app_id:
            raise NotificationRejected("wrong_app_id", f"app_id {params.get('app_id')!r}")
        if params.get("seller_id") != self._seller_id:
            raise NotificationRejected("wrong_merchant", f"seller_id {params.get('seller_id')!r}")
        order_no, status = params.get("out_trade_no"), params.get("trade_status")
        if not order_no or status not in _TRADE_STATES:
            raise NotificationRejected("malformed", f"out_trade_no or trade_status {status!r}")
        raw = {key: value for key, value in params.items() if key != "sign_type"}
        if any(key in params for key in ("refund_fee", "out_biz_no", "gmt_refund")):
            return self._refund_notification(params, order_no, status, raw)
        return Notification(kind="payment", order_no=order_no, state=_TRADE_STATES[status],
                            amount_fen=_notified_fen(params, "total_amount"),
                            provider_trade_no=params.get("trade_no"),
                            paid_at=_time(params.get("gmt_payment")),
                            notification_id=params.get("notify_id"), provider_state=status, raw=raw)

    @staticmethod
    def _refund_notification(params: dict, order_no: str, status: str, raw: dict) -> Notification:
        # Alipay reports a refund as a trade notification carrying refund_fee / gmt_refund /
        # out_biz_no (our refund_no); trade_status stays TRADE_SUCCESS, or TRADE_CLOSED once all
        # is refunded. It is sent when the money has gone back, so the refund succeeded.
        refund_no = params.get("out_biz_no")
        if not refund_no:
            raise NotificationRejected("malformed", "refund notification without out_biz_no")
        return Notification(kind="refund", order_no=order_no, state=ResultState.SUCCESS,
                            # refund_fee is the trade's refunded total so far, across its refunds
                            amount_fen=_notified_fen(params, "refund_fee"),
                            provider_trade_no=params.get("trade_no"), refund_no=refund_no,
                            notification_id=params.get("notify_id"), provider_state=status, raw=raw)

    def acknowledge(self, handled: bool) -> Acknowledgement:
        """Alipay stops retrying only on a body of exactly ``success``."""
        return Acknowledgement(status=200, body=b"success" if handled else b"fail",
                               content_type="text/plain")

    # -- refunds ------------------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund by the original route (alipay.trade.refund, out_request_no = our refund_no)."""
        if request.amount_fen <= 0:
            return RefundResult(ResultState.FAIL, request.order_no, request.refund_no,
                                error_code="invalid_amount", error_message="the amount must be positive")
        extra = {"trade_no": request.provider_trade_no} if request.provider_trade_no else {}
        answer = self._call("alipay.trade.refund", lambda: self._client.api_alipay_trade_refund(
            refund_amount=yuan(request.amount_fen), out_trade_no=request.order_no,
            out_request_no=request.refund_no, refund_reason=request.reason, **extra))
        if not answer.succeeded:
            return RefundResult(answer.refusal_state(), request.order_no, request.refund_no,
                                error_code=answer.error_code, error_message=answer.error_message)
        if answer.body.get("fund_change") == "Y":
            return RefundResult(ResultState.SUCCESS, request.order_no, request.refund_no,
                                amount_fen=request.amount_fen, provider_state="REFUND_SUCCESS")
        # fund_change N: this call moved no money, being a repeat of a refund already made or
        # one still in progress; Alipay's advice is to ask the refund query.
        return self.query_refund(request.order_no, request.refund_no)

    def query_refund(self, order_no: str, refund_no: str) -> RefundResult:
        """Ask Alipay how a refund stands (alipay.trade.fastpay.refund.query)."""
        answer = self._call("alipay.trade.fastpay.refund.query",
                            lambda: self._client.api_alipay_trade_fastpay_refund_query(
                                out_request_no=refund_no, out_trade_no=order_no))
        if answer.succeeded:
            body = answer.body
            if not body.get("refund_amount"):
                # Success without refund fields: Alipay has no such refund, so it was not made
                # and asking again with the same refund_no is safe.
                return RefundResult(ResultState.FAIL, order_no, refund_no, provider_state="NOT_FOUND",
                                    error_code="refund_not_found",
                                    error_message="Alipay knows no such refund", not_found=True)
            status = body.get("refund_status") or "REFUND_SUCCESS"  # older answers leave it out
            try:
                amount_fen = fen(body["refund_amount"])
            except ValueError as exc:
                return RefundResult(ResultState.UNKNOWN, order_no, refund_no,
                                    error_code="unreadable_answer", error_message=str(exc))
            state = ResultState.SUCCESS if status == "REFUND_SUCCESS" else ResultState.UNKNOWN
            return RefundResult(state, order_no, refund_no, amount_fen=amount_fen, provider_state=status)
        if answer.sub_code == "ACQ.TRADE_NOT_EXIST":
            return RefundResult(ResultState.FAIL, order_no, refund_no, error_code=answer.sub_code,
                                error_message=answer.error_message)
        return RefundResult(ResultState.UNKNOWN, order_no, refund_no, error_code=answer.error_code,
                            error_message=answer.error_message)

    # -- statement ----------------------------------------------------------------------------

    def statement(self, day: date) -> list[StatementLine]:
        """The trade bill of one day.

        Raises ``StatementUnavailable`` when the bill cannot be fetched or read: an empty list
        would claim Alipay had no trades that day.
        """
        answer = self._call("alipay.data.dataservice.bill.downloadurl.query",
                            lambda: self._client.server_api(
                                "alipay.data.dataservice.bill.downloadurl.query",
                                biz_content={"bill_type": "trade", "bill_date": day.isoformat()}))
        if answer.sub_code == "isp.bill_not_exist":
            # Alipay's answer for a day without trades. It also answers so before the bill is
            # made (about 09:00 the next day): reconcile a day only after that.
            return []
        url = (answer.body or {}).get("bill_download_url") if answer.succeeded else None
        if not url:
            raise StatementUnavailable(f"bill of {day}: {answer.error_code} {answer.error_message}")
        try:
            download = requests.get(url, timeout=self._timeout)  # the URL is valid for 30 s
            download.raise_for_status()
            return parse_trade_bill(download.content)
        except (requests.RequestException, BillUnreadable) as exc:
            raise StatementUnavailable(f"bill of {day}: {exc}") from exc

    # -- calling Alipay -----------------------------------------------------------------------

    def _call(self, method: str, call: Callable[[], Any]) -> _Answer:
        """Run one SDK call; whatever goes wrong becomes an answer, never an exception."""
        from payments.alipay.sdk import AliPayException, AliPayValidationError  # loaded by build already

        try:
            body = call()
        except AliPayValidationError:
            log.warning("alipay: %s answered with a signature that does not verify", method)
            return _Answer(trouble="answer_signature_invalid",
                           detail="the answer's signature does not verify with Alipay's public key")
        except AliPayException as exc:
            answer = _unsigned_answer(exc)
            log.warning("alipay: %s answered unsigned: %s %s", method, answer.trouble, answer.detail)
            return answer
        except Exception as exc:  # the SDK lets urllib, socket and JSON errors through unchanged
            log.warning("alipay: %s failed: %s: %s", method, type(exc).__name__, exc)
            return _Answer(trouble=_trouble_of(exc), detail=f"{type(exc).__name__}: {exc}")
        if not isinstance(body, dict):
            return _Answer(trouble="unreadable_answer", detail=f"answer is {type(body).__name__}")
        return _Answer(body=body)


def _unsigned_answer(exc: AliPayException) -> _Answer:
    """An answer the SDK refused because it carries no signature (e.g. isv.invalid-signature).

    It cannot be trusted, so it is never a FAIL; its code still tells the log what went wrong.
    """
    raw = getattr(exc, "_AliPayException__message", "") or ""  # the SDK keeps the raw text private
    try:
        inner = next(value for value in json.loads(raw).values() if isinstance(value, dict))
    except (ValueError, StopIteration, AttributeError):
        return _Answer(trouble="unsigned_answer", detail=str(exc)[:200])
    return _Answer(trouble=inner.get("sub_code") or inner.get("code") or "unsigned_answer",
                   detail=inner.get("sub_msg") or inner.get("msg") or "")


def _trouble_of(exc: Exception) -> str:
    if isinstance(exc, HTTPError):
        return f"http_{exc.code}"
    reason = exc.reason if isinstance(exc, URLError) else exc
    if isinstance(reason, TimeoutError):  # socket.timeout is TimeoutError
        return "timeout"
    if isinstance(exc, OSError):
        return "unreachable"
    return "unreadable_answer"  # not JSON, or not the shape the SDK expects


def _form_params(incoming: IncomingNotification) -> dict[str, str]:
    content_type = incoming.content_type or _header(incoming.headers, "Content-Type")
    if content_type and "application/x-www-form-urlencoded" not in content_type.lower():
        raise NotificationRejected("malformed", f"content type {content_type!r}")
    try:
        pairs = parse_qsl(incoming.body.decode("utf-8"), keep_blank_values=True, strict_parsing=True,
                          encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotificationRejected("malformed", "not a UTF-8 form body") from exc
    params = dict(pairs)
    if len(params) != len(pairs):
        raise NotificationRejected("malformed", "a parameter appears twice")
    if params.get("charset", "utf-8").lower() != "utf-8":  # we ask for utf-8 in every request
        raise NotificationRejected("malformed", f"charset {params.get('charset')!r}")
    return params


def _notified_fen(params: Mapping[str, str], name: str) -> int:
    try:
        return fen(params.get(name, ""))
    except ValueError as exc:
        raise NotificationRejected("bad_amount", f"{name} is not yuan with two decimals") from exc


def _header(headers: Mapping[str, str], name: str) -> str:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), "")


def _time(text: str | None) -> datetime | None:
    """Alipay's ``yyyy-MM-dd HH:mm:ss``, Beijing time."""
    try:
        return datetime.strptime(text or "", _TIME_FORMAT).replace(tzinfo=SHANGHAI)
    except ValueError:
        return None


def _pem(value: str, name: str) -> str:
    text = value if value.lstrip().startswith("-----BEGIN") else _read(value, name)
    if not text.lstrip().startswith("-----BEGIN"):
        raise ValueError(f"{name} must be a PEM key with its -----BEGIN line (bare base64 will not load)")
    return text


def _read(path: str, name: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise ValueError(f"{name}: neither PEM text nor a readable key file ({exc})") from exc


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
