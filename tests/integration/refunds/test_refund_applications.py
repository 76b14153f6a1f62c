"""Refund applications on PostgreSQL: apply, four eyes, payouts by the original route and by the bank,
a closed account, and what status, statements and certificate verification say afterwards."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.adapters import tables as t
from app.adapters.clock import SHANGHAI
from app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services import bank_accounts, call_worker, certificates, declarations, enrollments, lookback, orders
from app.services import refund_applications as ra
from tests.integration.refunds.conftest import CARD, OTHER_CARD
from tests.integration.test_lookback import run_together

IN_TREASURY = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
A_YEAR_LATER = datetime(2027, 12, 1, 9, 0, tzinfo=SHANGHAI)  # the original route's window has closed


def file_account(c, person_id, number=CARD):
    return bank_accounts.file_bank_account(person_id, [person_id], {
        "bank_code": "105", "account_kind": "card", "account_no": number, "holder_name": "张伟"}, c.uow(), c.clock)["id"]


def submit(c, person_id, ids, account_id, reason="duplicate"):
    return ra.submit_refund_application(ra.Applicant(person_id), {
        "insurance": "pension", "reason_type": reason, "reason_text": "同一月份缴了两次", "bank_account_id": account_id,
        "assessment_ids": ids}, c.uow(), c.clock, c.certificates)


def accept_and_approve(c, no):
    ra.accept_refund_application(no, "clerk-a", c.uow(), c.clock)
    return ra.approve_refund_application(no, "clerk-b", c.uow(), c.payments)


def assessment_states(c, ids):
    with c.uow() as uow:
        return {a.id: a.state for a in uow.assessments.get_many(ids)}


@pytest.fixture
def applied(container, zhang_paid, clock):
    person_id, declared, order_no = zhang_paid
    clock.set(IN_TREASURY)
    account_id = file_account(container, person_id)
    first = declared["assessments"][0]["id"]
    return person_id, declared, account_id, first


def test_only_fees_in_the_treasury_are_offered(container, zhang_paid, clock):
    person_id, declared, _ = zhang_paid
    items = ra.list_refundable_items(ra.Applicant(person_id), "pension", "2026-09", "2026-11", container.uow(),
                                     clock, container.certificates)
    assert len(items) == 3 and not any(i["selectable"] for i in items)
    assert "尚未入库" in items[0]["why_not"]
    clock.set(IN_TREASURY)
    items = ra.list_refundable_items(ra.Applicant(person_id), "pension", "2026-09", "2026-11", container.uow(),
                                     clock, container.certificates)
    assert all(i["selectable"] for i in items)


def test_a_double_payment_is_refunded_by_the_original_route_and_stops_counting_as_paid(container, applied, clock):
    c = container
    person_id, declared, account_id, first = applied
    cert = certificates.issue_certificate(person_id, "2026-09", "2026-11", c.uow(), clock, c.policies,
                                          c.certificates)["certificates"][0]
    made = submit(c, person_id, [first], account_id)
    assert made["state_label"] == "受理" and made["application_no"].startswith("TF")
    approved = accept_and_approve(c, made["application_no"])
    assert approved["state_label"] == "退费中" and approved["payouts"][0]["route"] == "original"
    call_worker.run_due_calls(c.uow(), c.payments)
    seen = ra.get_refund_application(made["application_no"], [person_id], c.uow())
    assert seen["state_label"] == "已退费"
    assert assessment_states(c, [first])[first] == "refunded"
    # status by notice: 已退费; the statement's total leaves it out; the certificate's verification says so
    status = declarations.payment_status(person_id, c.uow(), c.policies, clock,
                                         notice_number=declared["notice_number"])
    assert [r["status_label"] for r in status["periods"]].count("已退费") == 1
    statement = lookback.payment_statement(person_id, c.uow(), clock)
    assert statement["total_fen"] == declared["total_fen"] - made["total_fen"]
    assert [r["state_label"] for r in statement["rows"]].count("已退费") == 1
    verified = certificates.verify_certificate(cert["certificate_no"], cert["verification_code"], c.uow(),
                                               c.certificates)
    assert [p["refunded"] for p in verified["payments"]].count(True) == 1
    with c.uow() as uow:
        assert uow.conn.execute(select(func.count()).select_from(t.audit_event).where(
            t.audit_event.c.kind.like("refund_application.%"))).scalar() == 4  # submitted, accepted, approved, paid


def test_past_the_providers_window_the_money_goes_by_bank_transfer(container, applied, clock, bank):
    c = container
    person_id, declared, account_id, first = applied
    made = submit(c, person_id, [first], account_id)
    clock.set(A_YEAR_LATER)
    approved = accept_and_approve(c, made["application_no"])
    assert approved["payouts"][0]["route"] == "bank"
    call_worker.run_due_calls(c.uow(), c.payments)
    assert ra.get_refund_application(made["application_no"], [person_id], c.uow())["state_label"] == "已退费"
    assert bank.ledger.accounts[CARD].balance_fen == bank.ledger.faults.default_balance_fen + made["total_fen"]


def test_a_closed_account_sends_it_back_to_the_payer_who_files_another(container, applied, clock, bank):
    c = container
    person_id, declared, account_id, first = applied
    made = submit(c, person_id, [first], account_id)
    bank.accounts(**{CARD: {"status": "closed"}})
    clock.set(A_YEAR_LATER)
    accept_and_approve(c, made["application_no"])
    call_worker.run_due_calls(c.uow(), c.payments)
    back = ra.get_refund_application(made["application_no"], [person_id], c.uow())
    assert back["state_label"] == "已退回" and "账户已销户" in back["decided_reason"]
    assert assessment_states(c, [first])[first] == "paid"  # nothing was paid back
    with pytest.raises(InvalidInput):
        ra.refile_refund_account(made["application_no"], [person_id], account_id, c.uow(), c.payments)
    other = file_account(c, person_id, OTHER_CARD)
    again = ra.refile_refund_account(made["application_no"], [person_id], other, c.uow(), c.payments)
    assert again["state_label"] == "退费中"
    call_worker.run_due_calls(c.uow(), c.payments)
    assert ra.get_refund_application(made["application_no"], [person_id], c.uow())["state_label"] == "已退费"
    assert bank.ledger.accounts[OTHER_CARD].balance_fen > bank.ledger.faults.default_balance_fen


def test_the_reviewer_who_accepted_cannot_approve(container, applied):
    c = container
    person_id, _, account_id, first = applied
    no = submit(c, person_id, [first], account_id)["application_no"]
    ra.accept_refund_application(no, "clerk-a", c.uow(), c.clock)
    with pytest.raises(Forbidden) as refused:
        ra.approve_refund_application(no, "clerk-a", c.uow(), c.payments)
    assert refused.value.code == "refund_four_eyes"
    assert ra.get_refund_application(no, [person_id], c.uow())["state_label"] == "审核中"
    with c.uow() as uow:
        assert uow.conn.execute(select(func.count()).select_from(t.provider_call)
                                .where(t.provider_call.c.kind.in_(["refund", "payout"]))).scalar() == 0


def test_an_item_already_applied_for_or_refunded_is_refused(container, applied):
    c = container
    person_id, _, account_id, first = applied
    no = submit(c, person_id, [first], account_id)["application_no"]
    with pytest.raises(Conflict) as twice:
        submit(c, person_id, [first], account_id)
    assert twice.value.code == "refund_item_applied"
    accept_and_approve(c, no)
    call_worker.run_due_calls(c.uow(), c.payments)
    with pytest.raises(Conflict) as refunded:
        submit(c, person_id, [first], account_id)
    assert refunded.value.code == "refund_item_refunded" and "已退费" in refunded.value.message


def test_a_rejected_application_frees_its_items(container, applied):
    c = container
    person_id, _, account_id, first = applied
    no = submit(c, person_id, [first], account_id)["application_no"]
    rejected = ra.reject_refund_application(no, "clerk-a", "该笔费款不属于重复缴费", c.uow(), c.clock)
    assert rejected["state_label"] == "不予退费" and rejected["decided_reason"] == "该笔费款不属于重复缴费"
    assert submit(c, person_id, [first], account_id)["state_label"] == "受理"


def test_an_item_still_being_paid_is_refused(container, applied, clock):
    c = container
    person_id, declared, account_id, _ = applied
    enrollment_id = declared["assessments"][0]["enrollment_id"]
    enrollments.choose_contribution(person_id, enrollment_id, c.uow(), c.policies, clock, base_fen=500000,
                                    effective_month="2026-08")
    fresh = declarations.declare_periods(person_id, enrollment_id, ["2026-08"], c.uow(), c.policies, clock, c.notices)
    orders.create_order(orders.NewOrder([person_id], [a["id"] for a in fresh["assessments"]], "api", "fake.qr",
                                        fresh["total_fen"]), c.uow(), c.payments)
    with pytest.raises(Conflict) as refused:
        submit(c, person_id, [fresh["assessments"][0]["id"]], account_id)
    assert refused.value.code == "refund_item_paying" and "正在缴费中" in refused.value.message


def test_someone_elses_fee_or_account_reads_as_not_found(container, applied):
    c = container
    person_id, _, account_id, first = applied
    with pytest.raises(InvalidInput):
        submit(c, person_id + 1000, [first], account_id)
    with pytest.raises(NotFound):
        ra.get_refund_application("TF000", [person_id], c.uow())


def test_two_submissions_at_the_same_moment_make_one_application(container, applied):
    c = container
    person_id, _, account_id, first = applied
    results = run_together(lambda: submit(c, person_id, [first], account_id),
                           lambda: submit(c, person_id, [first], account_id))
    assert sum(isinstance(r, dict) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1
    with c.uow() as uow:
        assert uow.conn.execute(select(func.count()).select_from(t.refund_application)).scalar() == 1


def test_a_bank_that_does_not_answer_is_asked_again_later_and_nothing_is_lost(container, applied, clock, bank):
    c = container
    person_id, _, account_id, first = applied
    made = submit(c, person_id, [first], account_id)
    clock.set(A_YEAR_LATER)
    accept_and_approve(c, made["application_no"])
    bank.faults(api_5xx=True)
    assert call_worker.run_due_calls(c.uow(), c.payments).get("payout_unknown") == 1
    assert ra.get_refund_application(made["application_no"], [person_id], c.uow())["state_label"] == "退费中"
    bank.faults(api_5xx=False)
    assert not call_worker.run_due_calls(c.uow(), c.payments)  # not due yet: it waits before asking again
    clock.set(A_YEAR_LATER + timedelta(minutes=5))
    # it asks first (whether the transfer arrived is unknown): the bank never got it, so it is sent, once
    assert call_worker.run_due_calls(c.uow(), c.payments) == {"payout_send_again": 1, "payout_paid_out": 1}
    assert ra.get_refund_application(made["application_no"], [person_id], c.uow())["state_label"] == "已退费"
    assert len(bank.ledger.payouts) == 1  # asked, then sent once
