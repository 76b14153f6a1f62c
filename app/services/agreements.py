"""Debit agreements (委托扣款协议, seeds 000, 001, 004): sign, confirm, revoke, auto-pay, query.

已在银行签署协议: the payer types the bank's agreement number; the bank must confirm it for the
filed account and holder before anything is stored (a wrong number writes nothing).
未在银行签署协议: the agreement is recorded ``verifying`` first (so the request is never
forgotten), then the bank is asked to sign it under our idempotent request id; its answer,
now or later (``refresh_agreements``, the job), activates or rejects it. An agreement may be
for another insured person (代他人), and its account's holder may be a third person.
"""
from __future__ import annotations

import logging
import secrets

from app.domain.agreements import (ACTIVE, MODES, SIGNED_AT_BANK, SIGNED_ONLINE, STATE_LABELS, VERIFYING,
                                   DebitAgreement, auto_pay_taken)
from app.domain.bank_accounts import mask_account_no
from app.domain.documents import mask_name
from app.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from app.domain.periods import local_iso
from app.services.ports import Clock, UnitOfWork
from app.services.views import person_view
from payments.bank import (BANK_ACTIVE, BANK_NOT_FOUND, BANK_PENDING, BANK_REJECTED, BANK_REVOKED, DebitBank,
                           SignRequest)
from payments.base import ResultState

log = logging.getLogger(__name__)


class BankUnavailable(DomainError):
    http_status = 503


def _need(bank: DebitBank | None) -> DebitBank:
    if bank is None:
        raise BankUnavailable("bank_unavailable", "委托扣款银行暂未开通，请稍后再试")
    return bank


def sign_agreement(payer_person_id: int, person_ids: list[int], data: dict, uow: UnitOfWork, bank: DebitBank,
                   clock: Clock) -> dict:
    """New agreement for an identified insured person over one of their filed accounts."""
    person_id, mode = data.get("person_id"), data.get("mode")
    if person_id not in person_ids:
        raise NotFound("person_not_identified", "请先查询并确认参保人信息", field="person_id")
    if mode not in MODES:
        raise InvalidInput("agreement_mode_invalid", "请选择已在银行签署协议或未在银行签署协议", field="mode")
    with uow:
        account = uow.bank_accounts.get(data.get("bank_account_id") or 0)
        if account is None or account.person_id != person_id or account.removed_at:
            raise NotFound("bank_account_not_found", "请先进行存款账户账号备案", field="bank_account_id")
        if data.get("auto_pay") and uow.agreements.live_auto_pay_for(person_id):
            raise auto_pay_taken()
        person = uow.persons.get(payer_person_id)
    now = clock.now()
    request_id = f"SG{now:%Y%m%d%H%M%S}{secrets.randbelow(10 ** 8):08d}"
    agreement = DebitAgreement.new(payer_person_id, person_id, account.id, mode, request_id, now,
                                   auto_pay=bool(data.get("auto_pay")))
    if mode == SIGNED_AT_BANK:
        number = (data.get("agreement_no") or "").strip()
        if not number or len(number) > 40 or not number.isalnum():
            raise InvalidInput("agreement_no_required", "请输入银行签署的协议号", field="agreement_no")
        with uow:
            if uow.agreements.find_live_by_number(number):
                raise Conflict("agreement_no_in_use", "该协议号已登记，无需重复签约", field="agreement_no")
        answer = _need(bank).confirm_agreement(number, account.account_no, account.holder_name)
        if answer.state == ResultState.SUCCESS and answer.bank_state != BANK_ACTIVE:
            raise InvalidInput("agreement_not_confirmed", "银行未查到该生效协议，请核对协议号、账号和户名",
                               field="agreement_no")
        agreement.agreement_no = number
        if answer.state == ResultState.SUCCESS:
            agreement.activate(number, now)
    _need(bank)
    with uow:
        uow.agreements.add(agreement)
        uow.audit.record("agreement.created", f"agreement:{agreement.id}", {"mode": mode, "state": agreement.state}, now)
        uow.commit()
    if mode == SIGNED_ONLINE:
        answer = bank.sign_agreement(SignRequest(request_id, account.account_no, account.holder_name,
                                                 account.holder_id_type or "resident_id",
                                                 account.holder_id_number or "", person.name, person.id_number))
        _apply(agreement.id, answer, uow, clock)
    return show_agreement(agreement.id, person_ids + [payer_person_id], uow)


def _apply(agreement_id: int, answer, uow: UnitOfWork, clock: Clock) -> str:
    """Record the bank's word on a verifying agreement; UNKNOWN and pending leave it for the job."""
    if answer.state != ResultState.SUCCESS:
        return "unknown"
    with uow:
        agreement = uow.agreements.get(agreement_id)
        if agreement.state != VERIFYING:
            return "unchanged"
        if answer.bank_state == BANK_ACTIVE:
            agreement.activate(answer.agreement_no or agreement.agreement_no, clock.now())
        elif answer.bank_state in (BANK_REJECTED, BANK_REVOKED, BANK_NOT_FOUND):
            agreement.reject(answer.reason or "银行验证未通过", clock.now())
        elif answer.bank_state == BANK_PENDING and answer.agreement_no and not agreement.agreement_no:
            agreement.agreement_no = answer.agreement_no
        else:
            return "pending"
        if not uow.agreements.save(agreement):
            return "raced"  # someone else changed it first; the next run looks again
        uow.commit()
        return agreement.state


def refresh_agreements(uow: UnitOfWork, bank: DebitBank, clock: Clock, limit: int = 200) -> dict:
    """The job: ask the bank about every agreement still waiting for its verification."""
    counts: dict[str, int] = {}
    with uow:
        waiting = uow.agreements.list_in_state(VERIFYING, limit)
        accounts = {a.id: uow.bank_accounts.get(a.bank_account_id) for a in waiting}
        persons = {a.id: uow.persons.get(a.payer_person_id) for a in waiting}
    for agreement in waiting:
        account = accounts[agreement.id]
        if agreement.mode == SIGNED_AT_BANK:
            answer = bank.confirm_agreement(agreement.agreement_no, account.account_no, account.holder_name)
        elif agreement.agreement_no:
            answer = bank.query_agreement(agreement.agreement_no)
        else:  # the signing request may never have arrived: asking again under the same id is safe
            p = persons[agreement.id]
            answer = bank.sign_agreement(SignRequest(agreement.request_id, account.account_no, account.holder_name,
                                                     account.holder_id_type or "resident_id",
                                                     account.holder_id_number or "", p.name, p.id_number))
        outcome = _apply(agreement.id, answer, uow, clock)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def revoke_agreement(agreement_id: int, person_ids: list[int], uow: UnitOfWork, bank: DebitBank,
                     clock: Clock) -> dict:
    """撤销协议: at the bank first, then here; if the bank cannot be reached nothing changes."""
    with uow:
        agreement = _visible(uow, agreement_id, person_ids)
    if not agreement.is_live:
        raise Conflict("agreement_state", f"协议{STATE_LABELS[agreement.state]}，不能撤销")
    if agreement.agreement_no:
        answer = _need(bank).revoke_agreement(agreement.agreement_no)
        if answer.state != ResultState.SUCCESS or answer.bank_state not in (BANK_REVOKED, BANK_NOT_FOUND,
                                                                            BANK_REJECTED):
            raise BankUnavailable("bank_unavailable", "银行暂时无法受理撤销，请稍后再试")
    _change(agreement_id, person_ids, uow, clock, lambda a: a.revoke(clock.now()), "agreement.revoked")
    return show_agreement(agreement_id, person_ids, uow)


def switch_auto_pay(agreement_id: int, on: bool, person_ids: list[int], uow: UnitOfWork, clock: Clock) -> dict:
    """自动缴费 on or off: whether the bureau's batch debit may use this agreement."""
    def change(a: DebitAgreement) -> None:
        if on and not a.auto_pay:
            other = uow.agreements.live_auto_pay_for(a.person_id)
            if other and other.id != a.id:
                raise auto_pay_taken()
        a.switch_auto_pay(on, clock.now())

    _change(agreement_id, person_ids, uow, clock, change, "agreement.auto_pay")
    return show_agreement(agreement_id, person_ids, uow)


def _change(agreement_id: int, person_ids: list[int], uow: UnitOfWork, clock: Clock, change, audit_kind: str) -> None:
    with uow:
        agreement = _visible(uow, agreement_id, person_ids)
        change(agreement)
        if not uow.agreements.save(agreement):
            raise Conflict("agreement_changed", "协议状态已变化，请刷新后重试")
        uow.audit.record(audit_kind, f"agreement:{agreement_id}", {"state": agreement.state,
                                                                    "auto_pay": agreement.auto_pay}, clock.now())
        uow.commit()


def list_agreements(person_ids: list[int], uow: UnitOfWork) -> list[dict]:
    """委托扣款缴费协议查询: agreements for or signed by the identified persons."""
    with uow:
        return [agreement_view(uow, a) for a in uow.agreements.list_for_persons(person_ids)]


def show_agreement(agreement_id: int, person_ids: list[int], uow: UnitOfWork) -> dict:
    with uow:
        agreement = _visible(uow, agreement_id, person_ids)
        view = agreement_view(uow, agreement)
        view["history"] = [{"kind": e.kind, "at": local_iso(e.at)} for e in uow.agreements.history(agreement_id)]
        return view


def _visible(uow: UnitOfWork, agreement_id: int, person_ids: list[int]) -> DebitAgreement:
    agreement = uow.agreements.get(agreement_id)
    if agreement is None or not ({agreement.person_id, agreement.payer_person_id} & set(person_ids)):
        raise NotFound("agreement_not_found", "未找到该委托扣款协议", field="agreement_id")
    return agreement


def agreement_view(uow: UnitOfWork, a: DebitAgreement) -> dict:
    account = uow.bank_accounts.get(a.bank_account_id)
    return {"id": a.id, "mode": a.mode, "mode_label": MODES[a.mode], "state": a.state,
            "state_label": STATE_LABELS[a.state], "agreement_no": a.agreement_no, "auto_pay": a.auto_pay,
            "reason": a.reason, "insured": person_view(uow.persons.get(a.person_id)), "person_id": a.person_id,
            "for_other": a.person_id != a.payer_person_id, "bank_account_id": a.bank_account_id,
            "bank_name": account.bank_name, "account_no": mask_account_no(account.account_no),
            "holder_name": mask_name(account.holder_name), "holder_is_other": account.holder_is_other,
            "usable": a.state == ACTIVE, "created_at": local_iso(a.created_at)}
