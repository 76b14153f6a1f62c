"""Refund applications in the domain: the state table, four eyes, what may be asked back, payout routes."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.domain.errors import Conflict, Forbidden, InvalidInput
from app.domain.model import PAID, PAYING, REFUNDED, Assessment
from app.domain.refund_applications import (BANK, ORIGINAL, PAYING_OUT, REFUNDED_STATE, REJECTED, RETURNED,
                                            SUBMITTED, UNDER_REVIEW, Payout, Refundable, RefundApplication,
                                            RefundItem, check_reason, check_refundable, plan_payouts)
from app.domain.states import IllegalMove
from tests.timeline import TODAY


def assessment(id_, state=PAID, month=1):
    return Assessment(enrollment_id=1, person_id=1, insurance="pension", region="370200",
                      period_start=date(2026, month, 1), period_end=date(2026, month, 28), amount_fen=50_000,
                      kind="regular", notice_number=f"N{id_}", state=state, id=id_)


def refundable(id_, state=PAID, posted=TODAY - timedelta(days=30), provider="fake", held=False, order_no="O1"):
    return Refundable(assessment=assessment(id_, state), payment_id=id_, e_ticket_number=f"T{id_}", amount_fen=50_000,
                      posted_at=posted, order_no=order_no, provider=provider, paid_at=posted, held=held)


def application(**kw):
    return RefundApplication(application_no="TF1", person_id=1, applicant_account_id=None, channel="tax_app",
                             insurance="pension", reason_type="duplicate", reason_text="重复缴费", bank_account_id=1,
                             created_at=TODAY, items=[RefundItem(1, 1, "O1", 50_000)], **kw)


def bank_payout(key="P1"):
    return [Payout(BANK, key, 50_000, [1])]


def test_a_submitted_application_is_accepted_then_approved_by_someone_else():
    a = application()
    a.accept("clerk-a", TODAY)
    assert a.state == UNDER_REVIEW
    a.approve("clerk-b", TODAY, bank_payout())
    assert (a.state, a.accepted_by, a.approved_by) == (PAYING_OUT, "clerk-a", "clerk-b")


def test_the_one_who_accepted_cannot_approve():
    a = application()
    a.accept("clerk-a", TODAY)
    with pytest.raises(Forbidden) as refused:
        a.approve("clerk-a", TODAY, bank_payout())
    assert refused.value.code == "refund_four_eyes" and a.state == UNDER_REVIEW


def test_cannot_approve_what_was_not_accepted():
    with pytest.raises(Conflict):
        application().approve("clerk-b", TODAY, bank_payout())


def test_rejecting_needs_a_reason_and_ends_the_application():
    a = application()
    with pytest.raises(InvalidInput):
        a.reject("clerk-a", TODAY, "  ")
    a.reject("clerk-a", TODAY, "不属于多缴")
    assert a.state == REJECTED and a.decided_reason == "不属于多缴"
    with pytest.raises(Conflict):
        a.reject("clerk-a", TODAY, "again")


def test_a_refused_transfer_goes_back_to_the_payer_and_a_new_account_sends_it_again():
    a = application()
    a.accept("a", TODAY)
    a.approve("b", TODAY, bank_payout("P1"))
    assert a.payout_refused("P1", "账户已销户")
    assert a.state == RETURNED and "账户已销户" in a.decided_reason
    assert not a.payout_refused("P1", "again")  # a repeated answer changes nothing
    again = a.resubmit_account(2, {"P1": "P2"})
    assert [p.key for p in again] == ["P2"] and a.state == PAYING_OUT and a.bank_account_id == 2
    assert a.payout_done("P2", TODAY) == [1]
    assert a.state == REFUNDED_STATE
    assert a.payout_done("P2", TODAY) == []  # a duplicate arrival refunds nothing twice


def test_refunded_once_every_payout_arrived():
    a = application()
    a.items.append(RefundItem(2, 2, "O2", 50_000))
    a.accept("a", TODAY)
    a.approve("b", TODAY, [Payout(ORIGINAL, "R1", 50_000, [1], "O1"), Payout(BANK, "P1", 50_000, [2])])
    a.payout_done("R1", TODAY)
    assert a.state == PAYING_OUT
    a.payout_done("P1", TODAY)
    assert a.state == REFUNDED_STATE


def test_the_state_table_is_enforced():
    a = application()
    assert a.state == SUBMITTED
    with pytest.raises(IllegalMove):
        a._move(REFUNDED_STATE)


def test_approval_must_carry_the_whole_amount():
    a = application()
    a.accept("a", TODAY)
    with pytest.raises(ValueError):
        a.approve("b", TODAY, [Payout(BANK, "P1", 1, [1])])


@pytest.mark.parametrize("item, code", [
    (refundable(1, state=REFUNDED), "refund_item_refunded"),
    (refundable(1, state=PAYING), "refund_item_paying"),
    (refundable(1, held=True), "refund_item_applied"),
    (refundable(1, posted=TODAY), "refund_item_not_in_treasury"),
])
def test_an_item_that_cannot_be_asked_back_is_refused_in_chinese(item, code):
    with pytest.raises(Conflict) as refused:
        check_refundable(item, TODAY.date(), 5)
    assert refused.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)


def test_a_paid_fee_in_the_treasury_may_be_asked_back():
    check_refundable(refundable(1), TODAY.date(), 5)


def test_reason_types_come_from_the_table():
    assert check_reason("duplicate", " 同一月份 缴了两次 ") == ("duplicate", "同一月份 缴了两次")
    with pytest.raises(InvalidInput):
        check_reason("made_up", "x")
    with pytest.raises(InvalidInput):
        check_reason("overpaid", "")


def test_payouts_go_by_the_original_route_within_its_window_else_by_bank():
    keys = iter(range(100))
    fresh = refundable(1, order_no="O1")
    old = refundable(2, posted=TODAY - timedelta(days=400), order_no="O2")
    debit = refundable(3, provider="agreement", order_no="O3")
    payouts = plan_payouts([fresh, old, debit], TODAY, lambda: f"R{next(keys)}", lambda: f"P{next(keys)}")
    assert [(p.route, p.assessment_ids) for p in payouts] == [(ORIGINAL, [1]), (BANK, [2, 3])]
    assert sum(p.amount_fen for p in payouts) == 150_000
