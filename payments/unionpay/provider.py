"""UnionPay QR payments (银联二维码, the payer scans: 主扫) through the ACP 5.1.0 gateway.

No maintained Python SDK exists for UnionPay's ACP gateway, so messages are signed and
verified by hand with ``cryptography`` (``payments.unionpay.acp``) and posted with ``requests``.

Settings, the kwargs of ``build``:
    mer_id              UnionPay merchant number (merId).
    sign_key, sign_cert the merchant signing key and its certificate, PEM text or file paths
                        (``certId`` is the certificate's decimal serial number); or instead
    sign_pfx, sign_pfx_password   the ``.pfx`` file UnionPay issues to the merchant.
    root_cert, middle_cert   UnionPay's root and intermediate CA certificates (PEM text, or
                        PEM / DER file paths); every answer and notification must chain to them.
    gateway_url         gateway base, default ``https://gateway.95516.com`` (test environment:
                        ``https://gateway.test.95516.com``); we post to ``/gateway/api/backTransReq.do``
                        and ``/gateway/api/queryTrans.do`` below it.
    file_transfer_url   the statement endpoint, default ``https://filedownload.95516.com/``.
    back_url            notify URL for refunds without one and for undo requests; the real
                        gateway requires ``backUrl`` on both.
    timeout             seconds per HTTP call, default 10.
    check_cn            require UnionPay's signing certificate to be owned by 中国银联股份有限公司
                        (third ``@`` field of its CN), default True.

Order and refund numbers: ACP names a transaction by orderId + txnTime. The provider keeps no
state between calls, so txnTime is read from the number itself: the core's order numbers start
with their creation time as ``yyyyMMddHHmmss`` (Asia/Shanghai), refund numbers with R and then
that time. prepay refuses a number without it; a refund number without it is sent with the
current time and later queried by orderId alone, which only the sandbox accepts.

Close: UnionPay QR orders are not closed, they expire at ``payTimeout``. ``close`` queries the
order: paid → FAIL ``order_paid``; unknown at UnionPay (respCode 34) or failed → SUCCESS, there is
nothing to pay; pending → an undo (txnType 31) against its queryId, so it can no longer be paid.
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from string import ascii_letters
from typing import Callable, Mapping
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import requests

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
from payments.unionpay import acp
from payments.unionpay import statement as zm

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y%m%d%H%M%S"

BACK_TRANS_PATH = "/gateway/api/backTransReq.do"
QUERY_PATH = "/gateway/api/queryTrans.do"

OK = "00"
NO_SUCH_TRANSACTION = "34"
NO_FILE = "98"
# 03 通讯超时, 04 状态未明, 05 已受理: the outcome is not final yet
PENDING = frozenset({"03", "04", "05"})

TXN_QUERY, TXN_CONSUME, TXN_REFUND, TXN_UNDO, TXN_FILE = "00", "01", "04", "31", "76"


class _Trouble(Exception):
    """We could not learn UnionPay's answer: the caller answers UNKNOWN."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


def txn_time_of(number: str) -> str | None:
    """The ``yyyyMMddHHmmss`` a number starts with (after a letter prefix such as R), when it does."""
    head = number.lstrip(ascii_letters)[:14]
    if len(head) != 14 or not (head.isascii() and head.isdigit()):
        return None
    try:
        datetime.strptime(head, TIME_FORMAT)
    except ValueError:
        return None
    return head


def _fen(text: str | None) -> int | None:
    return int(text) if text and text.isascii() and text.isdigit() else None


class UnionPayProvider:
    """The payment provider port over UnionPay ACP 5.1.0 (QR only)."""

    code = "unionpay"
    methods = frozenset({"qr"})

    def __init__(self, *, mer_id: str, signer: acp.Signer, verifier: acp.Verifier, gateway_url: str,
                 file_transfer_url: str, back_url: str | None = None, timeout: float = 10.0,
                 clock: Callable[[], datetime] | None = None):
        self.mer_id = mer_id
        self._signer = signer
        self._verifier = verifier
        self._gateway_url = gateway_url.rstrip("/")
        self._file_transfer_url = file_transfer_url
        self._back_url = back_url
        self._timeout = timeout
        self._clock = clock or (lambda: datetime.now(SHANGHAI))

    # -- the port ---------------------------------------------------------------------------

    def prepay(self, request: PrepayRequest) -> PrepayResult:
        """Ask UnionPay for a QR code the payer scans with a UnionPay app."""
        if request.method not in self.methods:
            return PrepayResult(ResultState.FAIL, error_code="unsupported_method",
                                error_message=f"unionpay offers {sorted(self.methods)}")
        txn_time = txn_time_of(request.order_no)
        if txn_time is None:
            return PrepayResult(ResultState.FAIL, error_code="bad_order_no",
                                error_message="order numbers must start with yyyyMMddHHmmss")
        fields = {
            "txnType": TXN_CONSUME, "txnSubType": "07", "bizType": "000000", "channelType": "08",
            "currencyCode": "156", "orderId": request.order_no, "txnTime": txn_time,
            "txnAmt": str(request.amount_fen), "backUrl": request.notify_url,
            "payTimeout": request.expires_at.astimezone(SHANGHAI).strftime(TIME_FORMAT),
        }
        try:
            answer = self._post(self._gateway_url + BACK_TRANS_PATH, fields, request.order_no)
        except _Trouble as trouble:
            return PrepayResult(ResultState.UNKNOWN, error_code=trouble.code, error_message=trouble.message)
        code = answer["respCode"]
        if code == OK and answer.get("qrCode"):
            # the real qrCode is https://qr.95516.com/...; the sandbox's opens its cashier page
            return PrepayResult(ResultState.WAITING, qr_code=answer["qrCode"])
        if code in PENDING or code == OK:
            return PrepayResult(ResultState.UNKNOWN, error_code=code, error_message=answer.get("respMsg"))
        return PrepayResult(ResultState.FAIL, error_code=code, error_message=answer.get("respMsg"))

    def query(self, order_no: str) -> TradeResult:
        """Ask UnionPay how a payment stands (queryTrans by orderId + txnTime)."""
        try:
            answer = self._query(order_no)
        except _Trouble as trouble:
            return TradeResult(ResultState.UNKNOWN, order_no, error_code=trouble.code,
                               error_message=trouble.message)
        return self._trade_result(order_no, answer)

    def close(self, order_no: str) -> CloseResult:
        """Make an unpaid order unpayable; see the module docstring for how."""
        try:
            answer = self._query(order_no)
        except _Trouble as trouble:
            return CloseResult(ResultState.UNKNOWN, error_code=trouble.code, error_message=trouble.message)
        trade = self._trade_result(order_no, answer)
        if trade.state is ResultState.SUCCESS:
            return CloseResult(ResultState.FAIL, error_code="order_paid", error_message="the order is paid")
        if trade.state is ResultState.UNKNOWN:
            return CloseResult(ResultState.UNKNOWN, error_code=trade.error_code, error_message=trade.error_message)
        if trade.state is ResultState.FAIL or not answer.get("queryId"):
            return CloseResult(ResultState.SUCCESS)
        return self._undo(order_no, answer)

    def parse_notification(self, incoming: IncomingNotification) -> Notification:
        """Verify a back notification (form POST) and read it as a payment or a refund."""
        fields = self._form_fields(incoming.body)
        try:
            self._verifier.verify(fields)
        except acp.UntrustedMessage as exc:
            self._reject(exc.reason, exc.detail, fields)
        if fields.get("merId") != self.mer_id:
            self._reject("wrong_merchant", f"merId {fields.get('merId')!r}", fields)
        amount_fen = _fen(fields.get("txnAmt"))
        order_id, resp_code, txn_type = fields.get("orderId"), fields.get("respCode"), fields.get("txnType")
        if amount_fen is None or not order_id or not resp_code:
            self._reject("malformed", "orderId, txnAmt and respCode are required", fields)
        state = self._final_state(resp_code)
        # the card number and payer details stay out of what the core may store or show
        raw = {k: v for k, v in fields.items() if k not in ("signature", "signPubKeyCert", "accNo", "customerInfo")}
        if txn_type == TXN_CONSUME:
            paid_at = self._moment(fields.get("traceTime"), fields.get("txnTime"))
            return Notification("payment", order_id, state, amount_fen, provider_trade_no=fields.get("queryId"),
                                paid_at=paid_at if state is ResultState.SUCCESS else None,
                                notification_id=fields.get("queryId"), provider_state=resp_code, raw=raw)
        if txn_type == TXN_REFUND:
            # the refund's orderId is our refund number; the order number comes back in reqReserved
            if not fields.get("reqReserved"):
                self._reject("malformed", "refund notification without reqReserved", fields)
            return Notification("refund", fields["reqReserved"], state, amount_fen,
                                provider_trade_no=fields.get("origQryId"), refund_no=order_id,
                                provider_refund_no=fields.get("queryId"), notification_id=fields.get("queryId"),
                                provider_state=resp_code, raw=raw)
        self._reject("unsupported_txn_type", f"txnType {txn_type!r}", fields)

    def acknowledge(self, handled: bool) -> Acknowledgement:
        """UnionPay reads HTTP 200 as handled and retries on anything else."""
        # UnionPay retries on anything but 200/302; a 400 keeps a refusal from reading as a server error
        return Acknowledgement(200, b"ok") if handled else Acknowledgement(400, b"fail")

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund (txnType 04) against the payment's queryId; the result follows by notification."""
        def unknown(code: str | None, message: str | None) -> RefundResult:
            return RefundResult(ResultState.UNKNOWN, request.order_no, request.refund_no,
                                error_code=code, error_message=message)

        orig_qry_id = request.provider_trade_no
        if not orig_qry_id:
            trade = self.query(request.order_no)
            if trade.state is ResultState.UNKNOWN:
                return unknown(trade.error_code, trade.error_message)
            if trade.state is not ResultState.SUCCESS:
                return RefundResult(ResultState.FAIL, request.order_no, request.refund_no,
                                    error_code="not_paid", error_message="the order is not paid")
            orig_qry_id = trade.provider_trade_no
        fields = {
            "txnType": TXN_REFUND, "txnSubType": "00", "bizType": "000000", "channelType": "08",
            "orderId": request.refund_no, "txnTime": self._txn_time(request.refund_no),
            "txnAmt": str(request.amount_fen), "origQryId": orig_qry_id,
            "backUrl": request.notify_url or self._back_url, "reqReserved": request.order_no,
        }
        try:
            answer = self._post(self._gateway_url + BACK_TRANS_PATH, fields, request.order_no)
        except _Trouble as trouble:
            return unknown(trouble.code, trouble.message)
        code = answer["respCode"]
        if code == OK:
            return RefundResult(ResultState.WAITING, request.order_no, request.refund_no, request.amount_fen,
                                provider_refund_no=answer.get("queryId") or None, provider_state=code)
        if code in PENDING:
            return unknown(code, answer.get("respMsg"))
        return RefundResult(ResultState.FAIL, request.order_no, request.refund_no, provider_state=code,
                            error_code=code, error_message=answer.get("respMsg"))

    def query_refund(self, order_no: str, refund_no: str) -> RefundResult:
        """Ask UnionPay how a refund stands (queryTrans by the refund's orderId)."""
        try:
            answer = self._query(refund_no)
        except _Trouble as trouble:
            return RefundResult(ResultState.UNKNOWN, order_no, refund_no, error_code=trouble.code,
                                error_message=trouble.message)
        code = answer["respCode"]
        if code == NO_SUCH_TRANSACTION:
            # no refund by that number reached UnionPay: it may be sent again with the same number
            return RefundResult(ResultState.FAIL, order_no, refund_no, provider_state=code, error_code=code,
                                error_message=answer.get("respMsg"), not_found=True)
        if code != OK:
            return RefundResult(ResultState.UNKNOWN, order_no, refund_no, error_code=code,
                                error_message=answer.get("respMsg"))
        state = self._final_state(answer.get("origRespCode", ""))
        return RefundResult(state, order_no, refund_no, _fen(answer.get("txnAmt")),
                            provider_refund_no=answer.get("queryId"), provider_state=answer.get("origRespCode"),
                            error_code=None if state is ResultState.SUCCESS else answer.get("origRespCode"),
                            error_message=None if state is ResultState.SUCCESS else answer.get("origRespMsg"))

    def statement(self, day: date) -> list[StatementLine]:
        """The day's payments and refunds from UnionPay's reconciliation file.

        Raises StatementUnavailable when the file cannot be fetched or trusted: unlike the
        other calls there is no UNKNOWN to answer, and an empty list would claim a day
        without trades. A day UnionPay has no file for (respCode 98) is an empty list.
        """
        fields = {"txnType": TXN_FILE, "txnSubType": "01", "bizType": "000000", "fileType": "00",
                  "settleDate": zm.settle_date(day), "txnTime": self._now().strftime(TIME_FORMAT)}
        try:
            answer = self._post(self._file_transfer_url, fields, f"statement {day}")
        except _Trouble as trouble:
            raise StatementUnavailable(f"{trouble.code}: {trouble.message}") from None
        code = answer["respCode"]
        if code == NO_FILE:
            return []
        if code != OK or not answer.get("fileContent"):
            raise StatementUnavailable(f"{code}: {answer.get('respMsg')}")
        try:
            files = zm.unpack_file_content(answer["fileContent"])
            rows = [row for name, data in sorted(files.items()) if zm.is_detail_file(name)
                    for row in zm.parse_detail_file(data)]
            return zm.statement_lines(rows, day, SHANGHAI, self.mer_id)
        except (ValueError, KeyError, UnicodeDecodeError) as exc:  # zlib.error and BadZipFile are ValueErrors too
            raise StatementUnavailable(f"unreadable file: {type(exc).__name__}") from exc

    # -- the gateway --------------------------------------------------------------------------

    def _post(self, url: str, fields: Mapping[str, str | None], context: str) -> dict[str, str]:
        """Sign, post, and return UnionPay's verified answer; _Trouble when we cannot trust one."""
        message = self._signer.sign({"version": acp.VERSION, "encoding": "UTF-8", "signMethod": acp.SIGN_METHOD_RSA,
                                     "accessType": "0", "merId": self.mer_id, **fields})
        try:
            response = requests.post(url, data=message, timeout=self._timeout,
                                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})
        except requests.Timeout:
            raise self._trouble(context, "timeout", f"no answer within {self._timeout} s")
        except requests.RequestException as exc:
            raise self._trouble(context, "network_error", type(exc).__name__)
        if response.status_code != 200:
            raise self._trouble(context, f"http_{response.status_code}", "gateway error")
        try:
            answer = acp.parse_answer(response.content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise self._trouble(context, "unreadable_answer", type(exc).__name__)
        if not answer.get("respCode"):
            raise self._trouble(context, "unreadable_answer", "no respCode")
        try:
            self._verifier.verify(answer)
        except acp.UntrustedMessage as exc:
            raise self._trouble(context, "unverified_answer", exc.reason)
        if answer.get("merId", self.mer_id) != self.mer_id:
            raise self._trouble(context, "unverified_answer", "another merId")
        return answer

    @staticmethod
    def _trouble(context: str, code: str, message: str) -> _Trouble:
        log.warning("unionpay: %s: %s (%s)", context, code, message)
        return _Trouble(code, message)

    def _query(self, number: str) -> dict[str, str]:
        fields = {"txnType": TXN_QUERY, "txnSubType": "00", "bizType": "000000", "orderId": number,
                  "txnTime": txn_time_of(number)}
        answer = self._post(self._gateway_url + QUERY_PATH, fields, number)
        if answer["respCode"] == OK and answer.get("orderId") != number:
            raise self._trouble(number, "unverified_answer", "answer for another orderId")
        return answer

    def _undo(self, order_no: str, answer: Mapping[str, str]) -> CloseResult:
        now = self._now().strftime(TIME_FORMAT)
        fields = {"txnType": TXN_UNDO, "txnSubType": "00", "bizType": "000000", "channelType": "08",
                  "orderId": f"{now}C{order_no[-25:]}", "txnTime": now, "txnAmt": answer.get("txnAmt"),
                  "origQryId": answer["queryId"], "backUrl": self._back_url}
        try:
            undone = self._post(self._gateway_url + BACK_TRANS_PATH, fields, order_no)
        except _Trouble as trouble:
            return CloseResult(ResultState.UNKNOWN, error_code=trouble.code, error_message=trouble.message)
        if undone["respCode"] == OK:
            return CloseResult(ResultState.SUCCESS)
        # refused, e.g. 35 (original not in an undoable state): the order may have been paid meanwhile
        trade = self.query(order_no)
        if trade.state is ResultState.SUCCESS:
            return CloseResult(ResultState.FAIL, error_code="order_paid", error_message="the order is paid")
        if trade.state is ResultState.UNKNOWN:
            return CloseResult(ResultState.UNKNOWN, error_code=trade.error_code, error_message=trade.error_message)
        return CloseResult(ResultState.SUCCESS)

    # -- reading answers ----------------------------------------------------------------------

    def _trade_result(self, order_no: str, answer: Mapping[str, str]) -> TradeResult:
        code = answer["respCode"]
        if code == NO_SUCH_TRANSACTION:
            # a QR order exists at UnionPay only once the payer pays: not paid yet
            return TradeResult(ResultState.WAITING, order_no, provider_state=code)
        if code != OK:
            return TradeResult(ResultState.UNKNOWN, order_no, error_code=code, error_message=answer.get("respMsg"))
        orig = answer.get("origRespCode", "")
        state = self._final_state(orig)
        if state is ResultState.SUCCESS:
            amount_fen = _fen(answer.get("txnAmt"))
            if amount_fen is None:
                return TradeResult(ResultState.UNKNOWN, order_no, error_code="unreadable_answer",
                                   error_message="txnAmt")
            return TradeResult(state, order_no, amount_fen, provider_trade_no=answer.get("queryId"),
                               paid_at=self._moment(answer.get("traceTime"), answer.get("txnTime")),
                               provider_state=orig)
        if state is ResultState.WAITING:
            return TradeResult(state, order_no, _fen(answer.get("txnAmt")), provider_state=orig)
        return TradeResult(state, order_no, _fen(answer.get("txnAmt")), provider_state=orig, error_code=orig,
                           error_message=answer.get("origRespMsg"))

    @staticmethod
    def _final_state(code: str) -> ResultState:
        if code == OK:
            return ResultState.SUCCESS
        return ResultState.WAITING if code in PENDING else ResultState.FAIL

    @staticmethod
    def _moment(trace_time: str | None, txn_time: str | None) -> datetime | None:
        """traceTime (MMDDhhmmss) dated by the transaction's txnTime."""
        if not trace_time or not txn_time_of(txn_time or ""):
            return None
        near = datetime.strptime(txn_time, TIME_FORMAT).replace(tzinfo=SHANGHAI)
        return zm.moment(trace_time, near)

    def _form_fields(self, body: bytes) -> dict[str, str]:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True, errors="strict")
        except (UnicodeDecodeError, ValueError) as exc:
            self._reject("malformed", f"unreadable form: {type(exc).__name__}", {})
        fields = dict(pairs)
        if len(fields) != len(pairs):
            self._reject("malformed", "repeated field", fields)
        return fields

    @staticmethod
    def _reject(reason: str, detail: str, fields: Mapping[str, str]):
        # order and trade numbers only: a notification may carry a (masked) card number
        log.warning("unionpay notification rejected: %s (%s) orderId=%s queryId=%s", reason, detail,
                    fields.get("orderId"), fields.get("queryId"))
        raise NotificationRejected(reason, detail)

    def _txn_time(self, number: str) -> str:
        return txn_time_of(number) or self._now().strftime(TIME_FORMAT)

    def _now(self) -> datetime:
        return self._clock().astimezone(SHANGHAI)


def build(*, mer_id: str, root_cert, middle_cert, sign_key=None, sign_cert=None, sign_pfx=None,
          sign_pfx_password: str = "", gateway_url: str = "https://gateway.95516.com",
          file_transfer_url: str = "https://filedownload.95516.com/", back_url: str | None = None,
          timeout: float = 10.0, check_cn: bool = True) -> UnionPayProvider:
    """Create the provider from plain settings (see the module docstring)."""
    if sign_pfx:
        key, cert = acp.load_pfx(sign_pfx, sign_pfx_password)
    elif sign_key and sign_cert:
        key, cert = acp.load_private_key(sign_key), acp.load_certificate(sign_cert)
    else:
        raise ValueError("unionpay needs sign_pfx, or sign_key and sign_cert")
    verifier = acp.Verifier(acp.load_certificate(root_cert), acp.load_certificate(middle_cert), check_cn=check_cn)
    return UnionPayProvider(mer_id=mer_id, signer=acp.Signer(key, cert), verifier=verifier,
                            gateway_url=gateway_url, file_transfer_url=file_transfer_url, back_url=back_url,
                            timeout=float(timeout))


# no SDK and nothing sent: building the provider is the cheap check production runs at start
check_settings = build
