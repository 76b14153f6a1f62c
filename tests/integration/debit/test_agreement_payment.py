"""协议缴纳 on PostgreSQL against the sandbox bank: immediate, late, refused, revoked, locked, special."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.adapters import tables as t
from app.domain.errors import Conflict, InvalidInput, TooManyAttempts
from app.services import agreements, bank_accounts, bureau, call_worker, declarations, enrollments
from app.services.agreement_payment import AgreementPaymentRequest, PasswordCheck, pay_by_agreement
from tests.e2e.test_api_core_flow import ZHANG
from tests.integration.debit.conftest import CARD
from tests.integration.debit.test_filing_agreements_password import set_password


@pytest.fixture
def ready(container, zhang, bank):
    """张伟: a filed card, an active agreement, a payment password, two declared months of 1000 元."""
    c = container
    with c.uow() as uow:
        enrollment = next(e for e in uow.enrollments.list_for_person(zhang) if e.insurance == "pension")
    enrollments.choose_contribution(zhang, enrollment.id, c.uow(), c.policies, c.clock, base_fen=500000,
                                    effective_month="2026-10")
    declared = declarations.declare_periods(zhang, enrollment.id, ["2026-10", "2026-11"], c.uow(), c.policies,
                                            c.clock, c.notices)
    account = bank_accounts.file_bank_account(zhang, [zhang], dict(bank_code="105", account_kind="card",
                                                                   account_no=CARD, holder_name="张伟"),
                                              c.uow(), c.clock)
    agreement = agreements.sign_agreement(zhang, [zhang], dict(person_id=zhang, bank_account_id=account["id"],
                                                               mode="signed_online"), c.uow(), c.bank, c.clock)
    set_password(c, zhang)
    return {"person": zhang, "agreement": agreement, "ids": [a["id"] for a in declared["assessments"]],
            "amounts": [a["amount_fen"] for a in declared["assessments"]], "enrollment": enrollment}


def pay(c, ready, ids=None, password="258147", amount=None):
    ids = ids or ready["ids"][:1]
    amount = amount if amount is not None else sum(a for i, a in zip(ready["ids"], ready["amounts"]) if i in ids)
    return pay_by_agreement(AgreementPaymentRequest(ready["person"], [ready["person"]], ids, ready["agreement"]["id"],
                                                    amount, "api", password),
                            c.uow(), c.payments, PasswordCheck(c.password_hasher, c.password_rules),
                            ("api", "etax_web", "tax_app"))


def assessment_states(c, ids):
    with c.engine.connect() as conn:
        return [r.state for r in conn.execute(select(t.assessment.c.state).where(t.assessment.c.id.in_(ids))
                                              .order_by(t.assessment.c.id))]


def payments(c):
    with c.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.payment)).scalar_one()


def test_a_month_paid_by_agreement_is_debited_and_posted_once(container, ready, bank):
    order = pay(container, ready)
    assert order["state"] == "posted" and order["items"][0]["e_ticket_number"]
    assert assessment_states(container, ready["ids"]) == ["paid", "declared_unpaid"]
    assert bank.ledger.accounts[CARD].balance_fen == 100_000_000 - ready["amounts"][0]
    container.clock.set(container.clock.now() + timedelta(minutes=5))
    call_worker.run_due_calls(container.uow(), container.payments)  # the order's recorded query: settled already
    assert payments(container) == 1


def test_a_late_answer_leaves_the_order_paying_until_the_requery_settles_it(container, ready, bank, clock):
    bank.faults(late_results=True, late_seconds=300)
    order = pay(container, ready)
    assert order["state"] == "paying" and order["bank_message"] == "银行处理中，请稍后查看缴费结果"
    c = container
    requery = lambda: call_worker.run_due_calls(c.uow(), c.payments)  # noqa: E731
    clock.set(clock.now() + timedelta(seconds=61))
    assert requery() == {"waiting": 1} and payments(c) == 0
    clock.set(clock.now() + timedelta(seconds=240))
    assert requery() == {"posted": 1}
    clock.set(clock.now() + timedelta(hours=1))
    assert requery() == {} and payments(c) == 1


def test_insufficient_funds_close_the_order_and_the_month_stays_payable(container, ready, bank):
    bank.accounts(**{CARD: {"balance_fen": 100}})
    order = pay(container, ready)
    assert (order["state"], order["bank_message"]) == ("closed", "账户余额不足")
    assert assessment_states(container, ready["ids"]) == ["declared_unpaid", "declared_unpaid"]
    assert payments(container) == 0


def test_an_agreement_revoked_at_the_bank_is_refused_and_revoked_here(container, ready, bank):
    bank.ledger.revoke(ready["agreement"]["agreement_no"])
    order = pay(container, ready)
    assert (order["state"], order["bank_message"]) == ("closed", "委托扣款协议已撤销")
    shown = agreements.show_agreement(ready["agreement"]["id"], [ready["person"]], container.uow())
    assert shown["state"] == "revoked"
    with pytest.raises(Conflict) as refused:
        pay(container, ready)
    assert refused.value.code == "agreement_not_active"


def test_a_wrong_password_pays_nothing_and_the_third_locks(container, ready, bank):
    for _ in range(2):
        with pytest.raises(InvalidInput):
            pay(container, ready, password="111111")
    with pytest.raises(TooManyAttempts) as locked:
        pay(container, ready, password="111111")
    assert locked.value.details["logout"]
    with pytest.raises(TooManyAttempts):
        pay(container, ready)
    assert not bank.ledger.debits and assessment_states(container, ready["ids"]) == ["declared_unpaid"] * 2


def test_a_special_assessment_cannot_be_paid_by_agreement(container, ready):
    c = container
    bureau.import_special_assessments([{"insured_number": ZHANG["insured_number"], "period_start": "2020-01",
                                        "period_end": "2020-03", "amount_fen": 90000, "notice_number": "S001"}],
                                      c.uow(), c.clock)
    with c.uow() as uow:
        special = [a.id for a in uow.assessments.list_by_notice("S001")]
    with pytest.raises(InvalidInput) as refused:
        pay(container, ready, ids=special, amount=90000)
    assert refused.value.code == "special_not_by_agreement"


def test_the_amount_is_confirmed_before_the_bank_is_asked(container, ready, bank):
    with pytest.raises(Conflict):
        pay(container, ready, amount=1)
    assert not bank.ledger.debits


def test_a_late_debit_learned_after_midnight_is_dated_by_the_bank_and_both_days_reconcile(container, ready, bank,
                                                                                          clock):
    from app.services.reconciliation import DONE, reconcile_day

    c = container
    clock.set(clock.now().replace(hour=23, minute=57))
    paid_on = clock.today()
    bank.faults(late_results=True, late_seconds=120)  # the bank takes the money at 23:59
    assert pay(c, ready)["state"] == "paying"
    clock.set(clock.now() + timedelta(minutes=10))  # the re-query learns it at 00:07 the next day
    call_worker.run_due_calls(c.uow(), c.payments)
    assert payments(c) == 1
    clock.set(clock.now() + timedelta(days=1))
    runs = [reconcile_day(day, "agreement", c.providers, c.reconciliation_book, c.clock).run
            for day in (paid_on, paid_on + timedelta(days=1))]
    assert [(r.state, r.difference_count) for r in runs] == [(DONE, 0), (DONE, 0)]
    assert [(r.statement.payment_count, r.ours.payment_count) for r in runs] == [(1, 1), (0, 0)]
