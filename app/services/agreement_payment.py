"""Agreement payment (协议缴纳, seed 001): pay chosen assessments now through an active agreement.

Checks in this order, each with the payer's own words: the channel offers it; the agreement
is the payer's, active, and for the insured person of every assessment; no special
assessment (特殊缴费不支持协议扣款); the payment password (unless switched off; 3 wrong entries
lock). Then the ordinary order path holds the assessments and asks the bank to debit, and
the bank's answer is learned by query: debited → posted once through settlement; refused →
the order closes and the assessments are payable again, with the bank's reason; no answer
yet → the order stays paying and the re-query job settles it. An agreement the bank says is
revoked is revoked here too.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from app.domain.agreements import ACTIVE
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.payment_password import PasswordRules
from app.services import orders, settlement
from app.services.orders import NewOrder, PaymentPorts
from app.services.payment_password import check_payment_password
from app.services.ports import Clock, PasswordHasher, UnitOfWork
from payments.bank import RESULT_CODES
from payments.base import ResultState

PROVIDER, METHOD = "agreement", "debit"
REVOKED_AT_BANK = ("57",)


@dataclass(frozen=True)
class AgreementPaymentRequest:
    payer_person_id: int
    person_ids: list[int]
    assessment_ids: list[int]
    agreement_id: int
    confirmed_amount_fen: int
    channel: str
    password: str | None = None
    channel_user: str | None = None  # the account or channel user who pays (shown their orders)


@dataclass(frozen=True)
class PasswordCheck:
    hasher: PasswordHasher
    rules: PasswordRules


def pay_by_agreement(req: AgreementPaymentRequest, uow: UnitOfWork, pay: PaymentPorts, passwords: PasswordCheck,
                     agreement_channels: tuple[str, ...]) -> dict:
    """Debit the agreement for the chosen assessments; answers the order (and the bank's reason on refusal)."""
    clock = pay.clock
    if req.channel not in agreement_channels or PROVIDER not in pay.providers:
        raise InvalidInput("method_not_allowed", "该渠道不支持协议缴纳", field="method")
    with uow:
        agreement = uow.agreements.get(req.agreement_id)
        if agreement is None or not ({agreement.person_id, agreement.payer_person_id} & set(req.person_ids)):
            raise NotFound("agreement_not_found", "未找到该委托扣款协议", field="agreement_id")
        if agreement.state != ACTIVE:
            raise Conflict("agreement_not_active", "该委托扣款协议未生效或已撤销，请选择其他协议或缴费方式",
                           field="agreement_id")
        assessments = uow.assessments.get_many(sorted(set(req.assessment_ids)))
        if any(a.kind == "special" for a in assessments):
            raise InvalidInput("special_not_by_agreement", "特殊缴费不支持协议扣款，请选择其他缴费方式",
                               field="assessment_ids")
        if any(a.person_id != agreement.person_id for a in assessments):
            raise InvalidInput("agreement_other_person", "所选协议不能用于该参保人的缴费", field="agreement_id")
    check_payment_password(req.payer_person_id, req.password, uow, passwords.hasher, clock, passwords.rules)
    # the agreement method only here, never through the plain order endpoint (no password there)
    only_agreement = dataclasses.replace(pay, settings=dataclasses.replace(
        pay.settings, channel_methods={req.channel: [f"{PROVIDER}.{METHOD}"]}))
    order = orders.create_order(NewOrder(
        person_ids=req.person_ids, assessment_ids=req.assessment_ids, channel=req.channel,
        method=f"{PROVIDER}.{METHOD}", confirmed_amount_fen=req.confirmed_amount_fen,
        payer_person_id=req.payer_person_id, payer_ref=agreement.agreement_no,
        channel_user=req.channel_user), uow, only_agreement)
    # the bank's answer now, by the same query the call worker makes later (it is recorded with the order)
    trade = pay.providers[PROVIDER].query(order["order_no"])
    bank_message = None
    if trade.state == ResultState.SUCCESS:
        settlement.settle_success(PROVIDER, trade, uow, pay, source="agreement")
    elif trade.state == ResultState.FAIL:
        settlement.settle_failure(PROVIDER, order["order_no"], uow, clock, trade.provider_state or "FAIL")
        bank_message = RESULT_CODES.get(trade.error_code or "", trade.error_message)
        if trade.error_code in REVOKED_AT_BANK:
            _revoked_at_bank(agreement.id, uow, clock)
    view = orders.show_order(order["order_no"], req.person_ids, uow)
    view["bank_message"] = bank_message or ("银行处理中，请稍后查看缴费结果" if view["state"] == "paying" else None)
    return view


def _revoked_at_bank(agreement_id: int, uow: UnitOfWork, clock: Clock) -> None:
    with uow:
        agreement = uow.agreements.get(agreement_id)
        if agreement.state == ACTIVE:
            agreement.revoke(clock.now())
            if uow.agreements.save(agreement):
                uow.audit.record("agreement.revoked_at_bank", f"agreement:{agreement_id}", {}, clock.now())
                uow.commit()
