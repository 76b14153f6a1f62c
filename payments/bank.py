"""The bank port for debit agreements (委托扣款协议): what the core asks of a bank beyond paying.

Standard library only, beside ``payments/base.py``. The agreement provider
(``payments/agreement/``) implements it over the bank's HTTP API and its batch files; the
services see only these calls and DTOs. Like the payment port, a call never raises for bank
or network trouble: it answers UNKNOWN (``ResultState``) and the caller asks again later.

Batch debit (统一扣款) goes through files: ``send_batch`` streams our request file (header,
lines, trailer with counts, sums and a MAC) and ``fetch_batch_result`` streams the bank's
result file into a local path. ``write_batch_file`` / ``read_result_file`` are the bank's file
format, kept beside the client so the core never parses a bank format itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Iterable, Iterator, Protocol, runtime_checkable

from payments.base import ResultState

# agreement states as the bank reports them
BANK_ACTIVE, BANK_PENDING, BANK_REJECTED, BANK_REVOKED, BANK_NOT_FOUND = (
    "active", "pending", "rejected", "revoked", "not_found")


@dataclass(frozen=True)
class AgreementAnswer:
    """The bank's view of one agreement. ``state`` is UNKNOWN when we could not learn it."""

    state: ResultState  # SUCCESS: the bank answered (see bank_state); UNKNOWN: ask again
    bank_state: str | None = None  # active / pending / rejected / revoked / not_found
    agreement_no: str | None = None
    reason_code: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SignRequest:
    """Sign an agreement online (未在银行签署协议): the bank verifies the account and its holder."""

    request_id: str  # idempotent: the same id asks for the same agreement
    account_no: str
    holder_name: str
    holder_id_type: str
    holder_id_number: str
    payer_name: str
    payer_id_number: str


@dataclass(frozen=True)
class BatchLine:
    """One debit of a batch request file."""

    seq: int
    line_key: str  # idempotent: the bank debits a key at most once, whatever file carries it
    agreement_no: str
    amount_fen: int
    memo: str = ""


@dataclass(frozen=True)
class ResultLine:
    seq: int
    line_key: str
    agreement_no: str
    amount_fen: int
    code: str  # "00" debited; "PR" still processing; anything else refused (see RESULT_CODES)
    bank_txn_no: str
    message: str
    debited_at: datetime | None = None  # when the bank took the money ("00" lines): the day it belongs to


@dataclass(frozen=True)
class BatchReceipt:
    """SUCCESS: the bank took the file. FAIL: refused (``code`` says why). UNKNOWN: ask again."""

    state: ResultState
    code: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class ResultFetch:
    """SUCCESS: the file is at ``path``. WAITING: not ready yet. UNKNOWN: trouble, ask again."""

    state: ResultState
    path: Path | None = None
    code: str | None = None
    message: str | None = None


class BadBankFile(Exception):
    """A bank file we cannot trust (format, counts, sums or MAC); nothing in it may be used."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class PayoutRequest:
    """A transfer from the tax bureau's refund account to a payer's filed account (退费转账)."""

    request_id: str  # idempotent: the bank transfers a request id at most once
    account_no: str
    holder_name: str
    amount_fen: int
    memo: str = ""


@dataclass(frozen=True)
class PayoutAnswer:
    """SUCCESS: credited. WAITING: the bank is processing. FAIL: refused (``code``, e.g. 14 account closed;
    ``not_found``: the bank never received it). UNKNOWN: trouble, ask again."""

    state: ResultState
    request_id: str
    code: str | None = None
    message: str | None = None
    txn_no: str | None = None
    not_found: bool = False


# what the bank's result codes mean to a payer (the bank's own words are kept beside them)
RESULT_CODES = {
    "00": "扣款成功",
    "PR": "银行处理中",
    "51": "账户余额不足",
    "14": "账户已销户或状态异常",
    "56": "委托扣款协议不存在或未生效",
    "57": "委托扣款协议已撤销",
    "94": "重复扣款请求",
    "96": "银行系统异常",
}


@runtime_checkable
class DebitBank(Protocol):
    """Agreements and debits at the bank: verification, revocation and batch files."""

    bank_code: str

    def confirm_agreement(self, agreement_no: str, account_no: str, holder_name: str) -> AgreementAnswer:
        """已在银行签署协议: does the bank hold this active agreement for this account and holder?"""

    def sign_agreement(self, request: SignRequest) -> AgreementAnswer:
        """未在银行签署协议: ask the bank to verify and sign; usually answers ``pending``."""

    def query_agreement(self, agreement_no: str) -> AgreementAnswer:
        """How an agreement stands at the bank now."""

    def revoke_agreement(self, agreement_no: str) -> AgreementAnswer:
        """Revoke at the bank; ``revoked`` (or ``not_found``) when done."""

    def write_batch_file(self, path: Path, file_id: str, due_date: date, created_at: datetime,
                         lines: Iterable[BatchLine]) -> tuple[int, int]:
        """Stream a request file to ``path``; returns (count, sum_fen)."""

    def send_batch(self, file_id: str, path: Path) -> BatchReceipt:
        """Send a request file; sending the same file id again is answered as the first time."""

    def fetch_batch_result(self, file_id: str, path: Path) -> ResultFetch:
        """Download the result file of a sent batch to ``path``."""

    def read_result_file(self, path: Path, file_id: str) -> Iterator[ResultLine]:
        """Check the whole file (trailer counts, sums, MAC) first, then yield its lines.

        Raises ``BadBankFile`` before yielding anything when the file cannot be trusted."""


@runtime_checkable
class PayoutBank(Protocol):
    """Transfers out of the bureau's refund account (退费), by the bank that holds it."""

    def payout(self, request: PayoutRequest) -> PayoutAnswer:
        """Ask for a transfer; the same request id is one transfer, however often it is sent."""

    def query_payout(self, request_id: str) -> PayoutAnswer:
        """How a transfer stands; FAIL with ``not_found`` when the bank never received it."""
