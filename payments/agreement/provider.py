"""Agreement payment (协议缴纳) behind the payment port, and the bank port for agreements and batches.

Method ``debit``: ``prepay`` asks the bank to debit the agreement named in ``payer_ref`` (the
bank's agreement number) with the order number as the idempotent request id, and answers
WAITING once the bank has the request: the outcome is learned by ``query``, the same call
the re-query job makes, so an immediate and a late answer settle the same way. A bank that
says nothing (timeout, 5xx, bad MAC) gives UNKNOWN; asking again can never debit twice.

The rest of the payment port:

* ``query``: 00 → SUCCESS; PR → WAITING; a refusal (51 余额不足, 14 销户, 56/57 协议无效) → FAIL
  with the bank's code as ``error_code``; a request the bank never received → FAIL NOT_FOUND,
  except a batch line's (``D<yyyyMMdd>A<assessment>``): its file may not have been sent yet, so
  it is WAITING — the batch run, not a re-query, gives up on it when the bank refuses the file.
* ``close``: a debit cannot be called back. SUCCESS when the bank refused it or never got it,
  FAIL ``order_paid`` when it went through, UNKNOWN while it is processing.
* ``parse_notification``: the bank does not notify; results are queried or come in files.
* ``refund``: WAITING, ``MANUAL_TRANSFER`` — the bank returns money by transfer (as the counter).
* ``payout`` / ``query_payout`` (``payments/bank.py`` PayoutBank): a transfer to a payer's filed account,
  the request id idempotent at the bank; 00 → SUCCESS, PR → WAITING, a refusal (14 销户) → FAIL.
* ``statement``: the bank's day statement (对账文件, ``statement_file.py``): every debit that took
  money that Beijing day, single or batch, checked whole (header, count, sum, MAC) before a line
  is read; StatementUnavailable while the day is not over at the bank, when it cannot be had, or
  when it does not add up — never an empty day in place of trouble.

Settings, the keyword arguments of ``build``: ``bank_code``, ``api_url``, ``mac_key_file``
(hex of the key shared with the bank), ``timeout_seconds``.
"""
from __future__ import annotations

import logging
import os
import re
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Iterable, Iterator

from payments.agreement import batch_file, statement_file
from payments.agreement.bank_client import BankClient, BankTrouble
from payments.bank import (AgreementAnswer, BadBankFile, BatchLine, BatchReceipt, PayoutAnswer, PayoutRequest,
                           ResultFetch, ResultLine, SignRequest, RESULT_CODES)
from payments.base import (Acknowledgement, CloseResult, IncomingNotification, Notification, NotificationRejected,
                           PrepayRequest, PrepayResult, RefundRequest, RefundResult, ResultState, StatementLine,
                           StatementUnavailable, TradeResult)

log = logging.getLogger(__name__)
MANUAL_TRANSFER = "MANUAL_TRANSFER"
BATCH_LINE = re.compile(r"D\d{8}A\d+")  # the key of a batch debit line, also its order number


class AgreementProvider:
    code = "agreement"
    methods = frozenset({"debit"})

    def __init__(self, bank_code: str, api_url: str, mac_key: bytes, timeout_seconds: float = 10.0):
        self.bank_code = bank_code
        self.key = mac_key
        self.client = BankClient(api_url, mac_key, timeout_seconds)

    # -- the payment port ----------------------------------------------------------------------

    def prepay(self, request: PrepayRequest) -> PrepayResult:
        if request.method not in self.methods or not request.payer_ref:
            return PrepayResult(ResultState.FAIL, error_code="agreement_required",
                                error_message="an agreement number is needed in payer_ref")
        try:
            status, answer = self.client.call("POST", "/debits", {
                "request_id": request.order_no, "agreement_no": request.payer_ref,
                "amount_fen": request.amount_fen, "memo": request.description})
        except BankTrouble as trouble:
            log.warning("agreement debit %s: %s", request.order_no, trouble)
            return PrepayResult(ResultState.UNKNOWN, error_code="bank_trouble", error_message=str(trouble))
        if status != 200:
            return PrepayResult(ResultState.FAIL, error_code=answer.get("code"), error_message=answer.get("message"))
        return PrepayResult(ResultState.WAITING, provider_ref=request.payer_ref)

    def query(self, order_no: str) -> TradeResult:
        try:
            status, answer = self.client.call("GET", f"/debits/{order_no}")
        except BankTrouble as trouble:
            return TradeResult(ResultState.UNKNOWN, order_no, error_code="bank_trouble", error_message=str(trouble))
        code = answer.get("code")
        if status == 404:
            if BATCH_LINE.fullmatch(order_no):
                return TradeResult(ResultState.WAITING, order_no, provider_state="NOT_SENT")
            return TradeResult(ResultState.FAIL, order_no, provider_state="NOT_FOUND", error_code="NOT_FOUND",
                               error_message="银行未收到该扣款请求")
        if code == "00":  # dated by the bank's settlement, as its day statement dates it
            return TradeResult(ResultState.SUCCESS, order_no, amount_fen=int(answer["amount_fen"]),
                               provider_trade_no=answer.get("txn_no"), provider_state=code,
                               paid_at=_moment(answer.get("settled_at")))
        if code == "PR":
            return TradeResult(ResultState.WAITING, order_no, provider_state=code)
        return TradeResult(ResultState.FAIL, order_no, amount_fen=answer.get("amount_fen"), provider_state=code,
                           error_code=code, error_message=RESULT_CODES.get(code, answer.get("message")))

    def close(self, order_no: str) -> CloseResult:
        trade = self.query(order_no)
        if trade.state == ResultState.SUCCESS:
            return CloseResult(ResultState.FAIL, error_code="order_paid", error_message="已扣款")
        if trade.state == ResultState.FAIL:
            return CloseResult(ResultState.SUCCESS)
        return CloseResult(ResultState.UNKNOWN, error_code=trade.provider_state or trade.error_code)

    def parse_notification(self, incoming: IncomingNotification) -> Notification:
        raise NotificationRejected("not_supported", "the bank does not send notifications")

    def acknowledge(self, handled: bool) -> Acknowledgement:
        return Acknowledgement(200 if handled else 400, b"OK" if handled else b"FAIL")

    def refund(self, request: RefundRequest) -> RefundResult:
        return RefundResult(ResultState.WAITING, request.order_no, request.refund_no, request.amount_fen,
                            provider_state=MANUAL_TRANSFER)

    def query_refund(self, order_no: str, refund_no: str) -> RefundResult:
        return RefundResult(ResultState.WAITING, order_no, refund_no, provider_state=MANUAL_TRANSFER)

    def statement(self, day: date) -> Iterator[StatementLine]:
        """The day's statement, downloaded to a temporary file and checked whole; its lines stream from there."""
        handle, name = tempfile.mkstemp(prefix=f"stmt-{day:%Y%m%d}-", suffix=".txt")
        os.close(handle)
        path = Path(name)
        try:
            status, answer = self.client.download(f"/statements/{day:%Y%m%d}", path)
            if status != 200:
                raise StatementUnavailable(f"statement of {day}: {answer.get('code')} {answer.get('message')}")
            statement_file.check_statement(path, self.key, self.bank_code, day)
        except BankTrouble as trouble:
            path.unlink(missing_ok=True)
            raise StatementUnavailable(f"statement of {day}: {trouble}") from trouble
        except BadBankFile as bad:
            path.unlink(missing_ok=True)
            raise StatementUnavailable(f"statement of {day} refused: {bad}") from bad
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return statement_file.statement_lines(path, remove_after=True)

    # -- the bank port (payments/bank.py) ------------------------------------------------------

    def _agreement_call(self, method: str, path: str, payload: dict | None = None) -> AgreementAnswer:
        try:
            _, answer = self.client.call(method, path, payload)
        except BankTrouble as trouble:
            log.warning("bank agreement call %s: %s", path, trouble)
            return AgreementAnswer(ResultState.UNKNOWN, reason=str(trouble))
        return AgreementAnswer(ResultState.SUCCESS, bank_state=answer.get("status"),
                               agreement_no=answer.get("agreement_no"), reason=answer.get("reason"))

    def confirm_agreement(self, agreement_no: str, account_no: str, holder_name: str) -> AgreementAnswer:
        return self._agreement_call("POST", "/agreements/confirm", {
            "agreement_no": agreement_no, "account_no": account_no, "holder_name": holder_name})

    def sign_agreement(self, request: SignRequest) -> AgreementAnswer:
        return self._agreement_call("POST", "/agreements", {
            "request_id": request.request_id, "account_no": request.account_no, "holder_name": request.holder_name,
            "holder_id_type": request.holder_id_type, "holder_id_number": request.holder_id_number,
            "payer_name": request.payer_name, "payer_id_number": request.payer_id_number})

    def query_agreement(self, agreement_no: str) -> AgreementAnswer:
        return self._agreement_call("GET", f"/agreements/{agreement_no}")

    def revoke_agreement(self, agreement_no: str) -> AgreementAnswer:
        return self._agreement_call("POST", f"/agreements/{agreement_no}/revoke")

    def write_batch_file(self, path: Path, file_id: str, due_date: date, created_at: datetime,
                         lines: Iterable[BatchLine]) -> tuple[int, int]:
        return batch_file.write_request(path, self.key, file_id, self.bank_code, due_date, created_at, lines)

    def send_batch(self, file_id: str, path: Path) -> BatchReceipt:
        try:
            status, answer = self.client.upload(f"/batches/{file_id}", path)
        except BankTrouble as trouble:
            return BatchReceipt(ResultState.UNKNOWN, "bank_trouble", str(trouble))
        if status == 200:
            return BatchReceipt(ResultState.SUCCESS, answer.get("status"))
        return BatchReceipt(ResultState.FAIL, answer.get("code"), answer.get("message"))

    def fetch_batch_result(self, file_id: str, path: Path) -> ResultFetch:
        try:
            status, answer = self.client.download(f"/batches/{file_id}/result", path)
        except BankTrouble as trouble:
            return ResultFetch(ResultState.UNKNOWN, code="bank_trouble", message=str(trouble))
        if status == 200:
            return ResultFetch(ResultState.SUCCESS, path=path)
        return ResultFetch(ResultState.WAITING, code=answer.get("code"), message=answer.get("message"))

    def read_result_file(self, path: Path, file_id: str) -> Iterator[ResultLine]:
        return batch_file.read_result(path, self.key, file_id)

    # -- payouts (退费转账) ------------------------------------------------------------------------

    def payout(self, request: PayoutRequest) -> PayoutAnswer:
        try:
            status, answer = self.client.call("POST", "/payouts", {
                "request_id": request.request_id, "account_no": request.account_no,
                "holder_name": request.holder_name, "amount_fen": request.amount_fen, "memo": request.memo})
        except BankTrouble as trouble:
            log.warning("bank payout %s: %s", request.request_id, trouble)
            return PayoutAnswer(ResultState.UNKNOWN, request.request_id, "bank_trouble", str(trouble))
        return self._payout_answer(request.request_id, status, answer)

    def query_payout(self, request_id: str) -> PayoutAnswer:
        try:
            status, answer = self.client.call("GET", f"/payouts/{request_id}")
        except BankTrouble as trouble:
            return PayoutAnswer(ResultState.UNKNOWN, request_id, "bank_trouble", str(trouble))
        return self._payout_answer(request_id, status, answer)

    @staticmethod
    def _payout_answer(request_id: str, status: int, answer: dict) -> PayoutAnswer:
        code = answer.get("code")
        if status == 404:
            return PayoutAnswer(ResultState.FAIL, request_id, "NOT_FOUND", "银行未收到该转账请求", not_found=True)
        if status != 200:
            return PayoutAnswer(ResultState.FAIL, request_id, code, answer.get("message"))
        if code == "00":
            return PayoutAnswer(ResultState.SUCCESS, request_id, code, answer.get("message"), answer.get("txn_no"))
        if code == "PR":
            return PayoutAnswer(ResultState.WAITING, request_id, code, answer.get("message"))
        return PayoutAnswer(ResultState.FAIL, request_id, code, RESULT_CODES.get(code, answer.get("message")))


def _moment(text: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo else None  # a time without its zone is not believed


def build(bank_code: str, api_url: str, mac_key_file: str, timeout_seconds: float = 10.0) -> AgreementProvider:
    return AgreementProvider(bank_code, api_url, bytes.fromhex(Path(mac_key_file).read_text().strip()),
                             timeout_seconds)


# no SDK and nothing sent: building the provider is the cheap check production runs at start
check_settings = build
