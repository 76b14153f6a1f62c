"""The debit agreement (委托扣款协议) aggregate: payer + bank account + tax bureau.

Made in one of two ways (GLOSSARY): ``signed_at_bank`` (已在银行签署协议: the payer gives the
bank's agreement number and the bank confirms it) or ``signed_online`` (未在银行签署协议: we
ask the bank to sign, and it verifies the account and holder, maybe later:
"点击保存等待银行验证成功"). Either starts ``verifying``.

    verifying → active | rejected | revoked
    active    → revoked

Every change goes through a method here that checks this table and appends a history event;
the repository saves it as a compare-and-set on ``version`` (the version read), so two
concurrent changes cannot both win. 自动缴费 (auto-pay) may be switched while verifying or
active: it says whether the bureau's batch debit (统一扣款) may use the agreement.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.domain.errors import Conflict

SIGNED_AT_BANK, SIGNED_ONLINE = "signed_at_bank", "signed_online"
MODES = {SIGNED_AT_BANK: "已在银行签署协议", SIGNED_ONLINE: "未在银行签署协议"}
VERIFYING, ACTIVE, REJECTED, REVOKED = "verifying", "active", "rejected", "revoked"
AGREEMENT_MOVES = {VERIFYING: (ACTIVE, REJECTED, REVOKED), ACTIVE: (REVOKED,)}
LIVE = (VERIFYING, ACTIVE)
STATE_LABELS = {VERIFYING: "等待银行验证", ACTIVE: "已生效", REJECTED: "银行验证未通过", REVOKED: "已撤销"}


def auto_pay_taken() -> Conflict:
    """Another live agreement of the insured person already has 自动缴费 (found first, or won at the same moment)."""
    return Conflict("auto_pay_taken", "该参保人已有开启自动缴费的协议，请先关闭后再开启", field="auto_pay")


@dataclass
class AgreementEvent:
    kind: str  # created / activated / rejected / revoked / auto_pay_on / auto_pay_off
    at: datetime
    detail: dict = field(default_factory=dict)


@dataclass
class DebitAgreement:
    payer_person_id: int  # who signed it (the session's person)
    person_id: int  # the insured person whose fees it pays (may be another person, 代他人)
    bank_account_id: int
    mode: str
    request_id: str  # our idempotent request id at the bank
    created_at: datetime
    agreement_no: str | None = None  # the bank's number
    state: str = VERIFYING
    auto_pay: bool = False
    reason: str | None = None
    updated_at: datetime | None = None
    version: int = 0
    id: int | None = None
    events: list[AgreementEvent] = field(default_factory=list)  # not yet saved

    @classmethod
    def new(cls, payer_person_id: int, person_id: int, bank_account_id: int, mode: str, request_id: str,
            at: datetime, agreement_no: str | None = None, auto_pay: bool = False) -> "DebitAgreement":
        agreement = cls(payer_person_id, person_id, bank_account_id, mode, request_id, at, agreement_no,
                        auto_pay=auto_pay, updated_at=at)
        agreement.events.append(AgreementEvent("created", at, {"mode": mode, "auto_pay": auto_pay}))
        return agreement

    @property
    def is_live(self) -> bool:
        return self.state in LIVE

    def _move(self, new: str, at: datetime, **detail) -> None:
        if new not in AGREEMENT_MOVES.get(self.state, ()):
            raise Conflict("agreement_state", f"协议{STATE_LABELS[self.state]}，不能{_VERBS[new]}",
                           state=self.state)
        self.state = new
        self.updated_at = at
        self.events.append(AgreementEvent(_EVENT[new], at, detail))

    def activate(self, agreement_no: str, at: datetime) -> None:
        """The bank confirmed (or verified) it."""
        self._move(ACTIVE, at, agreement_no=agreement_no)
        self.agreement_no = agreement_no

    def reject(self, reason: str, at: datetime) -> None:
        self._move(REJECTED, at, reason=reason)
        self.reason = reason
        self.auto_pay = False

    def revoke(self, at: datetime) -> None:
        self._move(REVOKED, at)
        self.auto_pay = False

    def switch_auto_pay(self, on: bool, at: datetime) -> None:
        if not self.is_live:
            raise Conflict("agreement_state", f"协议{STATE_LABELS[self.state]}，不能设置自动缴费", state=self.state)
        if self.auto_pay != on:
            self.auto_pay = on
            self.updated_at = at
            self.events.append(AgreementEvent("auto_pay_on" if on else "auto_pay_off", at))


_VERBS = {ACTIVE: "生效", REJECTED: "标记为验证未通过", REVOKED: "撤销"}
_EVENT = {ACTIVE: "activated", REJECTED: "rejected", REVOKED: "revoked"}
