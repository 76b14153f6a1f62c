"""The bank counter (银行端查询缴费凭证) behind the payment port: a voucher the payer prints and pays at a bank.

Method ``voucher`` only. ``prepay`` issues a voucher number (``voucher_number``: 20 digits
that rebuild the order number, with ISO 7064 MOD 97-10 check digits) as ``provider_ref`` and
``qr_code`` (the bank scans it), and points ``pay_url`` at the voucher PDF the core serves.
Nothing is sent to a bank: the voucher itself is the payment order.

The counter cannot be asked anything, so the rest of the port is answered as follows:

* ``query``: WAITING, provider state ``AWAITING_BANK``. A payment becomes known only when the
  bank confirms it, live (``parse_notification``) or in its daily file
  (``confirmations_from_bank_file``, fed through the same ``parse_notification``).
* ``close``: SUCCESS. Closing the order is what voids the voucher; a bank that still takes
  the money afterwards sends a confirmation for a closed order, and the core answers that
  by refunding.
* ``refund``: WAITING, provider state ``MANUAL_TRANSFER``. The bank returns the money by
  transfer and confirms it with a ``kind`` "refund" confirmation naming our refund number;
  until then ``query_refund`` says WAITING too.
* ``statement``: the banks' daily files of the day, read from ``bank_file_dir`` (every
  ``<bank>_<YYYYMMDD>.csv`` there, the format of ``bank_file``). The same files are imported
  as confirmations (``flask bank import-file``); reconciliation reads them as the statement.
  No directory configured, no file of the day, or a malformed file: StatementUnavailable,
  never an empty day.

Settings, the keyword arguments of ``build``:
    bank_keys         {bank code: shared secret}, e.g. {"ccb": "..."}; the secret authenticates
                      that bank's confirmations (HMAC-SHA256). Codes are compared in lower case.
    voucher_base_url  where the core serves voucher PDFs; pay_url is f"{voucher_base_url}/{order_no}.pdf"
    now               a callable giving unix seconds, for the freshness check; default time.time
                      (tests pass a fixed one)
    bank_file_dir     where the banks' daily files are kept (optional; without it there is no statement)
"""
from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Callable, Mapping

from payments.base import (
    Acknowledgement,
    CloseResult,
    IncomingNotification,
    Notification,
    PrepayRequest,
    PrepayResult,
    RefundRequest,
    RefundResult,
    ResultState,
    StatementLine,
    StatementUnavailable,
    TradeResult,
)
from payments.counter.bank_file import confirmations_from_bank_file, statement_from_bank_file
from payments.counter.confirmation import read_confirmation, sign_confirmation
from payments.counter.voucher_number import UnsupportedOrderNo, voucher_no_for

__all__ = ["CounterProvider", "build", "sign_confirmation", "confirmations_from_bank_file"]

AWAITING_BANK = "AWAITING_BANK"
MANUAL_TRANSFER = "MANUAL_TRANSFER"


class CounterProvider:
    """Vouchers paid at a bank counter, confirmed by the bank."""

    code = "counter"
    methods = frozenset({"voucher"})

    def __init__(self, *, bank_keys: Mapping[str, str], voucher_base_url: str,
                 now: Callable[[], float] = time.time, bank_file_dir: str | None = None):
        if not bank_keys:
            raise ValueError("bank_keys: at least one bank must be configured")
        keys = {str(bank).strip().lower(): secret for bank, secret in bank_keys.items()}
        empty = sorted(bank for bank, secret in keys.items() if not isinstance(secret, str) or not secret)
        if empty or "" in keys:
            raise ValueError(f"bank_keys: every bank needs a code and a non-empty secret (check {empty})")
        if not voucher_base_url:
            raise ValueError("voucher_base_url is required")
        self._bank_keys = keys
        self._voucher_base_url = voucher_base_url.rstrip("/")
        self._now = now
        self._bank_file_dir = Path(bank_file_dir) if bank_file_dir else None

    def prepay(self, request: PrepayRequest) -> PrepayResult:
        """Issue the voucher: its number, and where its PDF is."""
        if request.method not in self.methods:
            return PrepayResult(ResultState.FAIL, error_code="method_unsupported",
                                error_message=f"the bank counter issues vouchers only, not {request.method!r}")
        if request.amount_fen <= 0:
            return PrepayResult(ResultState.FAIL, error_code="invalid_amount",
                                error_message="the amount must be positive")
        try:
            voucher_no = voucher_no_for(request.order_no)
        except UnsupportedOrderNo as error:
            return PrepayResult(ResultState.FAIL, error_code="order_no_unsupported", error_message=str(error))
        return PrepayResult(ResultState.WAITING, pay_url=f"{self._voucher_base_url}/{request.order_no}.pdf",
                            qr_code=voucher_no, provider_ref=voucher_no)

    def query(self, order_no: str) -> TradeResult:
        """The counter cannot be asked: waiting for the bank's confirmation."""
        return TradeResult(ResultState.WAITING, order_no, provider_state=AWAITING_BANK)

    def close(self, order_no: str) -> CloseResult:
        """Nothing to tell the bank: the closed order voids the voucher."""
        return CloseResult(ResultState.SUCCESS)

    def parse_notification(self, incoming: IncomingNotification) -> Notification:
        """Verify a bank's confirmation (see ``confirmation``); NotificationRejected otherwise."""
        return read_confirmation(incoming, self._bank_keys, self._now())

    def acknowledge(self, handled: bool) -> Acknowledgement:
        """200 {"code":"SUCCESS"} when handled; 400 {"code":"FAIL"} asks the bank to send it again."""
        if handled:
            return Acknowledgement(200, json.dumps({"code": "SUCCESS"}).encode(), "application/json")
        return Acknowledgement(400, json.dumps({"code": "FAIL"}).encode(), "application/json")

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refunds are bank transfers, confirmed later by the bank."""
        if not 0 < request.amount_fen <= request.total_fen:
            return RefundResult(ResultState.FAIL, request.order_no, request.refund_no,
                                error_code="invalid_amount", error_message="the amount must be positive and "
                                                                           "no more than the order's")
        return RefundResult(ResultState.WAITING, request.order_no, request.refund_no,
                            amount_fen=request.amount_fen, provider_state=MANUAL_TRANSFER)

    def query_refund(self, order_no: str, refund_no: str) -> RefundResult:
        """Waiting until the bank confirms the transfer."""
        return RefundResult(ResultState.WAITING, order_no, refund_no, provider_state=MANUAL_TRANSFER)

    def statement(self, day: date) -> list[StatementLine]:
        """Every bank's daily file of the day; StatementUnavailable when there is none to read."""
        if self._bank_file_dir is None:
            raise StatementUnavailable("the counter's statement is the banks' daily files: no bank_file_dir is set")
        files = sorted(self._bank_file_dir.glob(f"*_{day:%Y%m%d}.csv"))
        if not files:
            raise StatementUnavailable(f"no bank file of {day} has arrived")
        lines = []
        for path in files:
            try:
                lines += statement_from_bank_file(path.read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError, ValueError) as trouble:
                raise StatementUnavailable(f"{path.name}: {trouble}") from None
        return lines


def build(**kwargs) -> CounterProvider:
    """The registry's factory: ``payments.counter.provider:build`` with the settings above."""
    return CounterProvider(**kwargs)


# no SDK and nothing sent: building the provider is the cheap check production runs at start
check_settings = build
