"""Refund applications (社保费退费申请, seed 004): apply, review with four eyes, pay back, tell the payer.

Payer side: ``refund_start`` (the person's details, insurances, filed accounts, reason types),
``list_refundable_items`` (添加应退费明细: what was paid *and reached the treasury* in the periods),
``submit_refund_application`` (退费申请成功 with a number), ``list_refund_applications`` /
``get_refund_application`` (every channel's look-back), ``refile_refund_account`` (已退回: another
account, the money goes again).

Back office (the bureau's staff; the views check the role, the domain checks four eyes):
``refund_queue``, ``refund_application_detail``, ``accept_refund_application``,
``approve_refund_application``, ``reject_refund_application``. Every action is audited.

Payout, after approval: by the original provider (a ``Refund`` of the order, sent by the call
worker like any refund) when that provider still takes refunds, else a bank transfer to the
filed account (a ``payout`` call run by the same worker, ``run_payout_call``). A transfer the
bank refuses goes back to the payer (已退回). When money arrives the assessments move
paid → refunded, so status, statements and certificate verification say 已退费.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from app.domain.bank_accounts import mask_account_no
from app.domain.calls import ASK, PAYOUT, REFUND, SEND, ProviderCall, aware
from app.domain.certificates import period_range, shanghai_date, treasury_date
from app.domain.documents import IdType, mask_id_number, mask_name
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.model import PAID, REFUNDED
from app.domain.money import yuan
from app.domain.orders import Refund
from app.domain.periods import local_iso
from app.domain.policy import INSURANCE_LABELS
from app.domain.refund_applications import (ORIGINAL, PAYING_OUT, PAYOUT_ROUTE_LABELS, REASON_TYPES,
                                            RETURNED, STATE_LABELS, SUBMITTED, UNDER_REVIEW, Refundable,
                                            RefundApplication, RefundItem, check_reason, check_refundable,
                                            plan_payouts)
from app.services.bank_accounts import bank_account_view
from app.services.certificates import CertificateSettings
from app.services.orders import PaymentPorts
from app.services.ports import Clock, UnitOfWork
from app.services.provider_calls import answered, record_call
from payments.bank import PayoutRequest
from payments.base import RefundRequest, ResultState

PAYOUT_BANK = "agreement"  # the provider whose bank holds the bureau's refund account
REFUND_REASON_PREFIX = "refund_application:"  # a Refund made for an application names it in its reason
MAX_ITEMS = 120
NOT_FOUND = ("refund_application_not_found", "未找到该退费申请")
QUEUE_STATES = (SUBMITTED, UNDER_REVIEW, PAYING_OUT, RETURNED)


@dataclass(frozen=True)
class Applicant:
    """Who applies: the insured person (identified by the login) and the login account, if any."""

    person_id: int
    account_id: int | None = None
    channel: str = "tax_app"
    nationality_label: str | None = None  # 国籍（地区）, as the account registered it


# -- payer side --------------------------------------------------------------------------------

def refund_reason_types() -> list[dict]:
    """退费原因类型, with the rule each rests on."""
    return [{"code": code, "label": label, "source": source} for code, (label, source) in REASON_TYPES.items()]


def refund_start(applicant: Applicant, uow: UnitOfWork) -> dict:
    """The first page: the person's details, the insurances they are enrolled in, their filed accounts."""
    with uow:
        person = uow.persons.get(applicant.person_id)
        if person is None:
            raise NotFound("person_not_identified", "请先确认参保人身份")
        insurances = sorted({e.insurance for e in uow.enrollments.list_for_person(person.id)},
                            key=lambda i: list(INSURANCE_LABELS).index(i) if i in INSURANCE_LABELS else 99)
        accounts = [bank_account_view(a) for a in uow.bank_accounts.list_for_person(person.id)]
    return {"person": {"name": mask_name(person.name), "id_type": person.id_type,
                       "id_type_label": IdType(person.id_type).label, "id_number": mask_id_number(person.id_number),
                       "nationality": applicant.nationality_label or "中国"},
            "insurances": [{"code": i, "label": INSURANCE_LABELS.get(i, i)} for i in insurances],
            "bank_accounts": accounts, "needs_bank_account": not accounts, "reason_types": refund_reason_types()}


def list_refundable_items(applicant: Applicant, insurance: str, period_start: str, period_end: str, uow: UnitOfWork,
                          clock: Clock, settings: CertificateSettings) -> list[dict]:
    """添加应退费明细: the posted fees of the periods; ``selectable`` only for those in the treasury and free."""
    try:
        start, end = period_range(period_start, period_end)
    except InvalidInput as bad:
        if bad.code != "period_range_too_long":
            raise
        raise InvalidInput("period_range_too_long", "一次最多查询10年的缴费记录", field="period_start") from None
    with uow:
        found = uow.refund_applications.refundables(applicant.person_id, insurance or None, start, end)
    return _offered(found, clock, settings)


def ticked_refund_items(applicant: Applicant, insurance: str, assessment_ids: list[int], uow: UnitOfWork,
                        clock: Clock, settings: CertificateSettings) -> list[dict]:
    """The items a payer ticked so far, as they stand now (one gone meanwhile drops out)."""
    if not assessment_ids:
        return []
    with uow:
        found = uow.refund_applications.refundables(applicant.person_id, insurance or None,
                                                    assessment_ids=[int(i) for i in assessment_ids])
    return _offered(found, clock, settings)


def _offered(found: list[Refundable], clock: Clock, settings: CertificateSettings) -> list[dict]:
    today = clock.today()
    views = []
    for r in found:
        view = refundable_view(r, settings)
        try:
            check_refundable(r, today, settings.treasury_delay_working_days)
            view.update(selectable=True, why_not=None)
        except Conflict as refused:
            view.update(selectable=False, why_not=refused.message)
        views.append(view)
    return views


def submit_refund_application(applicant: Applicant, data: dict, uow: UnitOfWork, clock: Clock,
                              settings: CertificateSettings) -> dict:
    """Submit: reason, account and ticked items checked; the database refuses an item applied for twice."""
    reason_type, reason_text = check_reason(data.get("reason_type", ""), data.get("reason_text", ""))
    insurance = data.get("insurance") or ""
    if insurance not in INSURANCE_LABELS:
        raise InvalidInput("refund_insurance_required", "请选择退费的险种", field="insurance")
    try:
        ids = [int(x) for x in data.get("assessment_ids") or []]
        account_id = int(data.get("bank_account_id") or 0)
    except (TypeError, ValueError):
        raise InvalidInput("refund_items_invalid", "所选应退费明细有误，请重新选择", field="items") from None
    if not ids:
        raise InvalidInput("refund_items_required", "请添加应退费明细", field="items")
    if len(set(ids)) != len(ids) or len(ids) > MAX_ITEMS:
        raise InvalidInput("refund_items_invalid", "所选应退费明细有误，请重新选择", field="items")
    now = clock.now()
    with uow:
        account = uow.bank_accounts.get(account_id) if account_id else None
        if account is None or account.person_id != applicant.person_id or account.removed_at is not None:
            raise InvalidInput("refund_bank_account_required", "请选择已备案的银行账户，未备案的请先办理存款账户账号备案",
                               field="bank_account_id")
        found = {r.assessment.id: r for r in uow.refund_applications.refundables(
            applicant.person_id, insurance, assessment_ids=ids)}
        if set(found) != set(ids):
            _refuse_unposted(uow, applicant.person_id, insurance, [i for i in ids if i not in found])
        for r in found.values():
            check_refundable(r, now.date(), settings.treasury_delay_working_days)
        application = RefundApplication(
            application_no=application_number(now), person_id=applicant.person_id,
            applicant_account_id=applicant.account_id, channel=applicant.channel, insurance=insurance,
            reason_type=reason_type, reason_text=reason_text, bank_account_id=account.id, created_at=now,
            items=[RefundItem(assessment_id=r.assessment.id, payment_id=r.payment_id, order_no=r.order_no,
                              amount_fen=r.amount_fen) for r in found.values()])
        uow.refund_applications.add(application)  # Conflict when another live application holds an item
        uow.audit.record("refund_application.submitted", f"refund_application:{application.application_no}",
                         {"person_id": applicant.person_id, "channel": applicant.channel,
                          "total_fen": application.total_fen, "items": len(ids)}, now)
        uow.commit()
        return application_view(application, account=account)


def _refuse_unposted(uow: UnitOfWork, person_id: int, insurance: str, ids: list[int]) -> None:
    """Items with no posted fee: being paid, unpaid, or not the person's — each told apart for the payer."""
    for a in uow.assessments.get_many(ids):
        if a.person_id == person_id and a.insurance == insurance and a.state != PAID:
            check_refundable(Refundable(assessment=a, payment_id=0, e_ticket_number="", amount_fen=0,
                                        posted_at=datetime.max, order_no="", provider="", paid_at=None), date.min, 0)
    raise NotFound("refund_item_not_found", "所选费款不存在或不属于该险种的已缴费记录，请重新选择", field="items")


def list_refund_applications(person_ids: list[int], uow: UnitOfWork) -> list[dict]:
    """The applications of the identified persons, newest first (every channel's look-back)."""
    if not person_ids:
        return []
    with uow:
        return [application_view(a) for a in uow.refund_applications.list_for_persons(person_ids)]


def get_refund_application(application_no: str, person_ids: list[int], uow: UnitOfWork) -> dict:
    with uow:
        a = uow.refund_applications.get_by_no((application_no or "").strip())
        if a is None or a.person_id not in person_ids:
            raise NotFound(*NOT_FOUND, field="application_no")
        return application_view(a, account=uow.bank_accounts.get(a.bank_account_id))


def refile_refund_account(application_no: str, person_ids: list[int], bank_account_id: int, uow: UnitOfWork,
                          pay: PaymentPorts) -> dict:
    """已退回: the payer chose another filed account; the refused transfer goes again to it."""
    now = pay.clock.now()
    with uow:
        a = uow.refund_applications.get_by_no((application_no or "").strip())
        if a is None or a.person_id not in person_ids:
            raise NotFound(*NOT_FOUND, field="application_no")
        account = uow.bank_accounts.get(int(bank_account_id or 0))
        if account is None or account.person_id != a.person_id or account.removed_at is not None:
            raise InvalidInput("refund_bank_account_required", "请选择已备案的银行账户", field="bank_account_id")
        if account.id == a.bank_account_id:
            raise InvalidInput("refund_bank_account_same", "该账户转账未成功，请选择其他已备案的银行账户",
                               field="bank_account_id")
        failed = [p.key for p in a.payouts if p.state == "failed"]
        again = a.resubmit_account(account.id, {k: payout_id(now) for k in failed})
        for p in again:
            _record_bank_payout(uow, a, p.key, p.amount_fen, now)
        _save(uow, a, now)
        uow.audit.record("refund_application.account_refiled", f"refund_application:{a.application_no}",
                         {"bank_account_id": account.id}, now)
        uow.commit()
        view = application_view(a, account=account)
    if pay.wake:
        pay.wake()
    return view


# -- back office -------------------------------------------------------------------------------

def refund_queue(uow: UnitOfWork, states: tuple[str, ...] = QUEUE_STATES, limit: int = 200) -> list[dict]:
    """The applications staff work on, oldest first."""
    with uow:
        return [application_view(a) for a in uow.refund_applications.list_in_states(states, limit)]


def refund_application_detail(application_no: str, uow: UnitOfWork, settings: CertificateSettings) -> dict:
    """One application with its payment evidence: e-tickets, orders, providers' trade numbers, treasury days."""
    with uow:
        a = uow.refund_applications.get_by_no((application_no or "").strip())
        if a is None:
            raise NotFound(*NOT_FOUND, field="application_no")
        person = uow.persons.get(a.person_id)
        found = {r.assessment.id: r for r in uow.refund_applications.refundables(
            a.person_id, None, assessment_ids=[i.assessment_id for i in a.items])}
        orders = {no: uow.orders.get_by_no(no) for no in {i.order_no for i in a.items}}
        view = application_view(a, account=uow.bank_accounts.get(a.bank_account_id))
    view["person"] = {"name": mask_name(person.name), "id_type_label": IdType(person.id_type).label,
                      "id_number": mask_id_number(person.id_number)}
    evidence = []
    for item in a.items:
        r, order = found.get(item.assessment_id), orders.get(item.order_no)
        row = refundable_view(r, settings) if r else {"assessment_id": item.assessment_id}
        row.update(order_no=item.order_no, provider=order.provider if order else None,
                   provider_trade_no=order.provider_trade_no if order else None,
                   paid_at=local_iso(order.paid_at) if order else None,
                   channel=order.channel if order else None, applied_fen=item.amount_fen)
        evidence.append(row)
    view["evidence"] = evidence
    return view


def accept_refund_application(application_no: str, staff: str, uow: UnitOfWork, clock: Clock) -> dict:
    """受理: the application goes under review; the staff member is kept (they may not approve it)."""
    return _decide(application_no, staff, uow, clock, "accepted", lambda a, now: a.accept(staff, now))


def reject_refund_application(application_no: str, staff: str, reason: str, uow: UnitOfWork, clock: Clock) -> dict:
    """不予退费 with the reason the payer reads; the items are free again."""
    return _decide(application_no, staff, uow, clock, "rejected", lambda a, now: a.reject(staff, now, reason),
                   {"reason": (reason or "")[:200]})


def approve_refund_application(application_no: str, staff: str, uow: UnitOfWork, pay: PaymentPorts) -> dict:
    """审核通过 by a second staff member: the payouts are recorded as durable calls and sent by the worker."""
    def approve(a: RefundApplication, now: datetime) -> None:
        found = uow.refund_applications.refundables(a.person_id, None,
                                                    assessment_ids=[i.assessment_id for i in a.items])
        if len(found) != len(a.items) or any(r.assessment.state != PAID for r in found):
            raise Conflict("refund_item_changed", "所申请的费款状态已变化，请核实后处理")
        a.approve(staff, now, plan_payouts(found, now, lambda: pay.numbers.refund_no(now), lambda: payout_id(now)))
        for p in a.payouts:
            if p.route == ORIGINAL:
                _record_original_refund(uow, a, p.key, p.order_no, p.amount_fen, now)
            else:
                _record_bank_payout(uow, a, p.key, p.amount_fen, now)

    view = _decide(application_no, staff, uow, pay.clock, "approved", approve)
    if pay.wake:
        pay.wake()
    return view


def _decide(application_no: str, staff: str, uow: UnitOfWork, clock: Clock, what: str, act, extra: dict | None = None
            ) -> dict:
    if not staff:
        raise InvalidInput("staff_required", "缺少办理人员")
    now = clock.now()
    with uow:
        a = uow.refund_applications.get_by_no((application_no or "").strip())
        if a is None:
            raise NotFound(*NOT_FOUND, field="application_no")
        act(a, now)
        _save(uow, a, now)
        uow.audit.record(f"refund_application.{what}", f"refund_application:{a.application_no}",
                         {"staff": staff, "state": a.state, **(extra or {})}, now)
        uow.commit()
        return application_view(a, account=uow.bank_accounts.get(a.bank_account_id))


def _save(uow: UnitOfWork, a: RefundApplication, now: datetime) -> None:
    if not uow.refund_applications.save(a, now):
        raise Conflict("refund_application_changed", "该退费申请已被他人处理，请刷新后重试")


# -- payouts -----------------------------------------------------------------------------------

def _record_original_refund(uow: UnitOfWork, a: RefundApplication, refund_no: str, order_no: str, amount_fen: int,
                            now: datetime) -> None:
    order = uow.orders.get_by_no(order_no)
    refund = uow.orders.add_refund(Refund(refund_no=refund_no, order_id=order.id, amount_fen=amount_fen,
                                          reason=f"{REFUND_REASON_PREFIX}{a.application_no}", created_at=now))
    record_call(uow, REFUND, order.provider, order.order_no, RefundRequest(
        order_no=order.order_no, refund_no=refund.refund_no, amount_fen=amount_fen, total_fen=order.amount_fen,
        reason="社保费退费申请", provider_trade_no=order.provider_trade_no), now, due=now, key=refund_no, step=SEND)


def _record_bank_payout(uow: UnitOfWork, a: RefundApplication, key: str, amount_fen: int, now: datetime) -> None:
    # the account number is read (decrypted) when the call is made: the call's stored request never carries it
    record_call(uow, PAYOUT, PAYOUT_BANK, a.application_no, {
        "application_no": a.application_no, "request_id": key, "bank_account_id": a.bank_account_id,
        "amount_fen": amount_fen}, now, due=now, key=key)


def run_payout_call(call: ProviderCall, uow: UnitOfWork, pay: PaymentPorts) -> str:
    """One attempt of a bank transfer (called by the call worker): send it, or ask how it stands."""
    bank = pay.providers[call.provider]
    request = call.request
    if call.step == ASK:
        answer = bank.query_payout(call.key)
    else:
        with uow:
            account = uow.bank_accounts.get(int(request["bank_account_id"]))
        answer = bank.payout(PayoutRequest(request_id=call.key, account_no=account.account_no,
                                           holder_name=account.holder_name, amount_fen=int(request["amount_fen"]),
                                           memo=f"社保费退费 {request['application_no']}"))
    answered(call, answer, pay.clock.now())
    now = pay.clock.now()
    with uow:
        if answer.state == ResultState.SUCCESS:
            outcome = _payout_arrived(uow, request["application_no"], call.key, now)
            call.finish(now)
        elif answer.state == ResultState.FAIL and answer.not_found:
            call.again_at(now, step=SEND)
            outcome = "send_again"
        elif answer.state == ResultState.FAIL:
            outcome = _payout_refused(uow, request["application_no"], call.key, answer.message or answer.code, now)
            call.finish(now)  # settled: the payer files another account, which is a new payout
        elif answer.state == ResultState.WAITING:
            call.attempts = 0
            call.again_at(now + pay.policy.wait_while_pending(now - aware(call.created_at, now)), step=ASK)
            outcome = "waiting"
        else:
            call.retry_later(now, pay.policy, step=ASK)
            outcome = "exception" if call.state == "exception" else "unknown"
        uow.calls.save(call, now)
        uow.commit()
    return f"payout_{outcome}"


def original_refund_settled(uow: UnitOfWork, refund: Refund, succeeded: bool, now: datetime) -> None:
    """Inside the settlement's transaction: an application's refund by the original route ended.

    A refund the provider refused stays on the exceptions list (an operator sends it again or
    resolves it); the application stays 退费中 meanwhile, so nothing is lost or paid twice.
    """
    if not refund.reason.startswith(REFUND_REASON_PREFIX) or not succeeded:
        return
    _payout_arrived(uow, refund.reason[len(REFUND_REASON_PREFIX):], refund.refund_no, now)


def _payout_arrived(uow: UnitOfWork, application_no: str, key: str, now: datetime) -> str:
    a = uow.refund_applications.get_by_no(application_no)
    if a is None:
        return "unknown_application"
    refunded = a.payout_done(key, now)
    if not refunded:
        return "duplicate"
    uow.assessments.move(refunded, PAID, REFUNDED)
    _save(uow, a, now)
    uow.audit.record("refund_application.paid_out", f"refund_application:{a.application_no}",
                     {"key": key, "state": a.state}, now)
    return "paid_out"


def _payout_refused(uow: UnitOfWork, application_no: str, key: str, reason: str, now: datetime) -> str:
    a = uow.refund_applications.get_by_no(application_no)
    if a is None or not a.payout_refused(key, reason):
        return "duplicate"
    _save(uow, a, now)
    uow.audit.record("refund_application.returned", f"refund_application:{a.application_no}",
                     {"key": key, "reason": reason}, now)
    return "returned"


# -- views -------------------------------------------------------------------------------------

def application_number(now: datetime) -> str:
    """TF + yyyyMMdd (Asia/Shanghai) + 10 random digits: not guessable, unique by the index."""
    return f"TF{shanghai_date(now):%Y%m%d}{secrets.randbelow(10 ** 10):010d}"


def payout_id(now: datetime) -> str:
    return f"P{shanghai_date(now):%Y%m%d}{secrets.randbelow(10 ** 12):012d}"


def refundable_view(r: Refundable, settings: CertificateSettings) -> dict:
    a = r.assessment
    return {"assessment_id": a.id, "payment_id": r.payment_id, "e_ticket_number": r.e_ticket_number,
            "insurance": a.insurance, "insurance_label": INSURANCE_LABELS.get(a.insurance, a.insurance),
            "period": a.period_label, "notice_number": a.notice_number, "amount_fen": r.amount_fen,
            "amount_yuan": yuan(r.amount_fen), "posted_at": local_iso(r.posted_at),
            "treasury_on": treasury_date(r.posted_at, settings.treasury_delay_working_days).isoformat(),
            "state": a.state}


def application_view(a: RefundApplication, account=None) -> dict:
    view = {"application_no": a.application_no, "state": a.state, "state_label": STATE_LABELS[a.state],
            "insurance": a.insurance, "insurance_label": INSURANCE_LABELS.get(a.insurance, a.insurance),
            "reason_type": a.reason_type, "reason_type_label": REASON_TYPES[a.reason_type][0],
            "reason_text": a.reason_text, "total_fen": a.total_fen, "total_yuan": yuan(a.total_fen),
            "items": len(a.items), "channel": a.channel, "created_at": local_iso(a.created_at),
            "accepted_by": a.accepted_by, "approved_by": a.approved_by,
            "decided_reason": a.decided_reason, "finished_at": local_iso(a.finished_at),
            "payouts": [{"route": p.route, "route_label": PAYOUT_ROUTE_LABELS[p.route], "amount_fen": p.amount_fen,
                         "amount_yuan": yuan(p.amount_fen), "state": p.state, "reason": p.reason}
                        for p in a.payouts]}
    if account is not None:
        view["bank_account"] = {"bank_name": account.bank_name, "account_no": mask_account_no(account.account_no)}
    return view


__all__ = ["Applicant", "PAYOUT", "refund_reason_types", "refund_start", "list_refundable_items",
           "submit_refund_application", "ticked_refund_items", "list_refund_applications", "get_refund_application",
           "refile_refund_account", "refund_queue", "refund_application_detail", "accept_refund_application",
           "approve_refund_application", "reject_refund_application", "run_payout_call",
           "original_refund_settled"]
