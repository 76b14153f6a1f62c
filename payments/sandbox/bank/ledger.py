"""The sandbox bank's books: accounts, debit agreements, single debits and batch files.

Time comes from the clock handed in (tests fix it), so "late" means "later on that clock":
an online signature is verified ``verify_delay_seconds`` after it was asked for, a late debit
or batch line settles ``late_seconds`` after it arrived, and a batch's result is ready
``batch_delay_seconds`` after the file. Every debit request id and batch line key is debited
at most once, whatever file or call carries it again. Once a day is over (on that clock, in
Beijing time) the bank answers its statement (对账文件): every debit it made that day, single
or batch, dated by when it settled.
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

OPEN, CLOSED, MISSING = "open", "closed", "missing"
ACTIVE, PENDING, REJECTED, REVOKED = "active", "pending", "rejected", "revoked"
OK, PROCESSING, NO_FUNDS, ACCOUNT_CLOSED, NO_AGREEMENT, AGREEMENT_REVOKED = "00", "PR", "51", "14", "56", "57"
MESSAGES = {OK: "交易成功", PROCESSING: "处理中", NO_FUNDS: "余额不足", ACCOUNT_CLOSED: "账户已销户",
            NO_AGREEMENT: "协议不存在或未生效", AGREEMENT_REVOKED: "协议已撤销"}


@dataclass
class BankFaults:
    """Switches a test (or a person on the bank page) flips."""

    api_5xx: bool = False  # answer API calls with HTTP 500
    reject_signing: bool = False  # online signatures are refused at verification
    verify_delay_seconds: int = 0  # online signatures stay pending this long
    late_results: bool = False  # debits (single and batch) settle late_seconds later
    late_seconds: int = 600
    partial_results: bool = False  # every other batch line settles late (the result file shows PR)
    batch_delay_seconds: int = 0  # a batch result is ready this long after the file
    lose_result_files: bool = False  # result files cannot be fetched (NO_RESULT) while on
    bad_result_trailer: bool = False  # result files carry a trailer whose sum is off by one fen
    unknown_result_line: bool = False  # result files carry one more line nobody sent
    reject_files: bool = False  # every request file is refused as BAD_TRAILER
    lose_statements: bool = False  # day statements cannot be fetched (NO_STATEMENT) while on
    default_balance_fen: int = 100_000_000  # the balance of an account nobody set up
    # every agreement number not on the books is taken as active (a bank whose customers all signed at
    # its counter): lets the benchmark debit a million agreements without a million set-up calls
    open_agreements: bool = False

    def update(self, values: dict) -> None:
        for key, value in values.items():
            if not hasattr(self, key):
                raise KeyError(key)
            setattr(self, key, type(getattr(self, key))(value))

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Account:
    account_no: str
    holder_name: str | None
    balance_fen: int
    status: str = OPEN


@dataclass
class Agreement:
    agreement_no: str
    account_no: str
    holder_name: str
    status: str
    created_at: datetime
    verify_at: datetime | None = None
    reason: str | None = None
    payer_name: str | None = None


@dataclass(slots=True)
class Debit:
    request_id: str
    agreement_no: str
    amount_fen: int
    created_at: datetime
    settle_at: datetime
    code: str = PROCESSING
    txn_no: str = ""
    file_id: str | None = None
    seq: int = 0


@dataclass
class Batch:
    file_id: str
    bank_code: str
    due_date: str
    digest: str
    received_at: datetime
    ready_at: datetime
    keys: list[str] = field(default_factory=list)


@dataclass
class Payout:
    request_id: str
    account_no: str
    amount_fen: int
    created_at: datetime
    code: str
    txn_no: str = ""


class BankLedger:
    def __init__(self, clock, bank_code: str = "ccb"):
        self.clock = clock
        self.bank_code = bank_code
        self.faults = BankFaults()
        self._lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.accounts: dict[str, Account] = {}
            self.agreements: dict[str, Agreement] = {}
            self.sign_requests: dict[str, str] = {}  # request id → agreement no
            self.debits: dict[str, Debit] = {}
            self.batches: dict[str, Batch] = {}
            self.payouts: dict[str, Payout] = {}
            self._numbers = itertools.count(1)

    def reset(self) -> None:
        self.clear()
        self.faults = BankFaults()

    # -- accounts --------------------------------------------------------------------------

    def account(self, account_no: str, holder_name: str | None = None) -> Account:
        """An account; one nobody set up opens with the default balance (any number is a customer)."""
        with self._lock:
            acc = self.accounts.get(account_no)
            if acc is None:
                acc = self.accounts[account_no] = Account(account_no, holder_name, self.faults.default_balance_fen)
            if acc.holder_name is None and holder_name:
                acc.holder_name = holder_name
            return acc

    def set_account(self, account_no: str, **values) -> Account:
        with self._lock:
            acc = self.account(account_no)
            for key, value in values.items():
                setattr(acc, key, int(value) if key == "balance_fen" else value)
            return acc

    # -- agreements ------------------------------------------------------------------------

    def _number(self, prefix: str) -> str:
        return f"{prefix}{self.clock.now():%Y%m%d}{next(self._numbers):08d}"

    def open_at_counter(self, account_no: str, holder_name: str, payer_name: str | None = None) -> Agreement:
        """已在银行签署: a person signed at the bank's counter; the number goes on their receipt."""
        with self._lock:
            self.account(account_no, holder_name)
            agreement = Agreement(self._number("AG"), account_no, holder_name, ACTIVE, self.clock.now(),
                                  payer_name=payer_name)
            self.agreements[agreement.agreement_no] = agreement
            return agreement

    def confirm(self, agreement_no: str, account_no: str, holder_name: str) -> tuple[str, str | None]:
        with self._lock:
            agreement = self._refreshed(agreement_no)
            if agreement is None or agreement.account_no != account_no or agreement.holder_name != holder_name:
                return "not_found", "协议号、账号或户名与银行记录不符"
            return agreement.status, agreement.reason

    def sign_online(self, request_id: str, account_no: str, holder_name: str, payer_name: str) -> Agreement:
        """未在银行签署: the bank checks the account and its holder, now or after the verify delay."""
        with self._lock:
            if request_id in self.sign_requests:
                return self._refreshed(self.sign_requests[request_id])
            now = self.clock.now()
            agreement = Agreement(self._number("AG"), account_no, holder_name, PENDING, now,
                                  verify_at=now + timedelta(seconds=self.faults.verify_delay_seconds),
                                  payer_name=payer_name)
            acc = self.accounts.get(account_no)
            if self.faults.reject_signing:
                agreement.reason = "银行验证未通过"
            elif acc is not None and acc.status != OPEN:
                agreement.reason = "账户不存在或已销户"
            elif acc is not None and acc.holder_name and acc.holder_name != holder_name:
                agreement.reason = "户名与账户不符"
            else:
                self.account(account_no, holder_name)
            self.agreements[agreement.agreement_no] = agreement
            self.sign_requests[request_id] = agreement.agreement_no
            return self._refreshed(agreement.agreement_no)

    def _refreshed(self, agreement_no: str) -> Agreement | None:
        agreement = self.agreements.get(agreement_no)
        if agreement and agreement.status == PENDING and self.clock.now() >= agreement.verify_at:
            agreement.status = REJECTED if agreement.reason else ACTIVE
        return agreement

    def query_agreement(self, agreement_no: str) -> Agreement | None:
        with self._lock:
            return self._refreshed(agreement_no)

    def revoke(self, agreement_no: str) -> Agreement | None:
        with self._lock:
            agreement = self._refreshed(agreement_no)
            if agreement is not None and agreement.status in (ACTIVE, PENDING):
                agreement.status = REVOKED
            return agreement

    # -- debits ----------------------------------------------------------------------------

    def debit(self, request_id: str, agreement_no: str, amount_fen: int, late: bool | None = None,
              file_id: str | None = None, seq: int = 0) -> Debit:
        """Idempotent on the request id (a batch line key is one too): the second ask gets the first answer."""
        with self._lock:
            known = self.debits.get(request_id)
            if known is not None:
                return self._settled(known)
            now = self.clock.now()
            late = self.faults.late_results if late is None else late
            debit = Debit(request_id, agreement_no, amount_fen, now,
                          now + timedelta(seconds=self.faults.late_seconds if late else 0), file_id=file_id, seq=seq)
            self.debits[request_id] = debit
            return self._settled(debit)

    def _settled(self, debit: Debit) -> Debit:
        if debit.code != PROCESSING or self.clock.now() < debit.settle_at:
            return debit
        agreement = self._refreshed(debit.agreement_no)
        if agreement is None and self.faults.open_agreements:
            debit.code, debit.txn_no = OK, self._number("T")
        elif agreement is None or agreement.status not in (ACTIVE, REVOKED):
            debit.code = NO_AGREEMENT
        elif agreement.status == REVOKED:
            debit.code = AGREEMENT_REVOKED
        else:
            acc = self.account(agreement.account_no)
            if acc.status != OPEN:
                debit.code = ACCOUNT_CLOSED
            elif acc.balance_fen < debit.amount_fen:
                debit.code = NO_FUNDS
            else:
                acc.balance_fen -= debit.amount_fen
                debit.code = OK
                debit.txn_no = self._number("T")
        return debit

    def query_debit(self, request_id: str) -> Debit | None:
        with self._lock:
            debit = self.debits.get(request_id)
            if debit is not None and debit.file_id is not None:
                batch = self.batches[debit.file_id]
                if self.clock.now() < batch.ready_at:
                    return debit  # the batch has not been run yet
            return self._settled(debit) if debit else None

    # -- batch files -----------------------------------------------------------------------

    def payout(self, request_id: str, account_no: str, holder_name: str, amount_fen: int) -> Payout:
        """A transfer into an account (a refund to a payer): refused when the account is closed or missing;
        a request id is transferred once, however often it comes."""
        with self._lock:
            known = self.payouts.get(request_id)
            if known is not None:
                return known
            acc = self.account(account_no, holder_name)
            code = OK if acc.status == OPEN else ACCOUNT_CLOSED
            payout = Payout(request_id, account_no, amount_fen, self.clock.now(), code)
            if code == OK:
                acc.balance_fen += amount_fen
                payout.txn_no = self._number("T")
            self.payouts[request_id] = payout
            return payout

    def receive_batch(self, request_file) -> tuple[Batch, bool]:
        """Take a parsed request file; (batch, False) when this file id was taken before."""
        with self._lock:
            known = self.batches.get(request_file.file_id)
            if known is not None:
                return known, False
            now = self.clock.now()
            batch = Batch(request_file.file_id, request_file.bank_code, request_file.due_date, request_file.digest,
                          now, now + timedelta(seconds=self.faults.batch_delay_seconds))
            for line in request_file.lines:
                late = self.faults.late_results or (self.faults.partial_results and line.seq % 2 == 0)
                self.debit(line.line_key, line.agreement_no, line.amount_fen, late=late, file_id=batch.file_id,
                           seq=line.seq)
                batch.keys.append(line.line_key)
            self.batches[batch.file_id] = batch
            return batch, True

    def batch_lines(self, file_id: str) -> list[tuple] | None:
        """The result lines as of now, or None while the batch is not ready."""
        with self._lock:
            batch = self.batches[file_id]
            if self.clock.now() < batch.ready_at:
                return None
            lines = []
            for n, key in enumerate(batch.keys, start=1):
                d = self._settled(self.debits[key])
                lines.append((n, key, d.agreement_no, d.amount_fen, d.code, d.txn_no,
                              self._taken_at(d) if d.code == OK else None, MESSAGES.get(d.code, "")))
            return lines

    def _taken_at(self, debit: Debit) -> datetime:
        """When a debit took the money: a batch line when the bank runs its file, at the earliest."""
        if debit.file_id is None:
            return debit.settle_at
        return max(debit.settle_at, self.batches[debit.file_id].ready_at)

    def debited_on(self, day: date) -> list[tuple] | None:
        """The statement lines of a Beijing day, (request_id, agreement_no, amount_fen, txn_no, settled_at) of
        every debit that took money; None while the day is not over."""
        with self._lock:
            if _beijing_day(self.clock.now()) <= day:
                return None
            lines = []
            for debit in list(self.debits.values()):
                settled_at = self._taken_at(debit)
                if _beijing_day(settled_at) != day or self._settled(debit).code != OK:
                    continue
                lines.append((debit.request_id, debit.agreement_no, debit.amount_fen, debit.txn_no, settled_at))
            return sorted(lines, key=lambda line: (line[4], line[0]))

    def summary(self) -> dict:
        with self._lock:
            return {"accounts": [asdict(a) for a in list(self.accounts.values())[-200:]],
                    "agreements": [asdict(a) for a in list(self.agreements.values())[-200:]],
                    "debits": [asdict(d) for d in list(self.debits.values())[-200:]],
                    "batches": [{"file_id": b.file_id, "due_date": b.due_date, "lines": len(b.keys),
                                 "received_at": b.received_at, "ready_at": b.ready_at}
                                for b in self.batches.values()],
                    "payouts": [asdict(p) for p in list(self.payouts.values())[-200:]],
                    "faults": self.faults.as_dict()}


def _beijing_day(at: datetime) -> date:
    return at.astimezone(ZoneInfo("Asia/Shanghai")).date()
