"""The aggregates enforce their state tables; provider calls wait longer each time and end visible."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.adapters.clock import SHANGHAI
from app.domain.calls import DONE, EXCEPTION, PENDING, REFUND, SEND, CallPolicy, ProviderCall
from app.domain.model import check_move
from app.domain.orders import (CLOSED, POSTED, REFUND_FAILED, REFUND_PENDING, Order, Refund, e_ticket_number,
                               kept_notification)
from app.domain.states import IllegalMove

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


def an_order(**kw) -> Order:
    return Order(order_no="O1", channel="api", provider="fake", method="qr", amount_fen=100, description="d",
                 created_at=NOW, expires_at=NOW + timedelta(minutes=30), **kw)


def test_an_order_moves_created_paying_succeeded_posted_and_notes_each_change():
    order = an_order()
    order.open("ref", None, "qr://", None)
    order.debit(NOW, "T1")
    order.post(NOW)
    assert order.state == POSTED and order.changes["state"] == POSTED and order.changes["provider_trade_no"] == "T1"


def test_a_posted_order_cannot_be_closed_or_posted_twice():
    order = an_order(state=POSTED)
    with pytest.raises(IllegalMove):
        order.close(NOW, "expired")
    with pytest.raises(IllegalMove):
        order.post(NOW)
    assert order.changes == {}


def test_a_closed_order_may_learn_of_a_debit_but_only_to_refund_it():
    order = an_order(state=CLOSED)
    order.debit(NOW, "T1")
    with pytest.raises(IllegalMove):
        order.open("ref", None, None, None)
    order.start_refund("order_closed")
    order.finish_refund()
    assert order.state == "refunded"


def test_assessment_moves_follow_their_table():
    check_move("declared_unpaid", "paying")
    with pytest.raises(IllegalMove):
        check_move("paid", "declared_unpaid")
    with pytest.raises(IllegalMove):
        check_move("voided", "paying")


def test_a_failed_refund_can_only_be_sent_again_by_an_operator():
    refund = Refund(refund_no="R1", order_id=1, amount_fen=100, reason="x", created_at=NOW)
    refund.fail(NOW)
    with pytest.raises(IllegalMove):
        refund.succeed(NOW, None)
    refund.send_again()
    assert refund.state == REFUND_PENDING and refund.read_state == REFUND_PENDING
    assert Refund(refund_no="R2", order_id=1, amount_fen=1, reason="x", created_at=NOW,
                  state=REFUND_FAILED).state == REFUND_FAILED


def test_a_call_waits_longer_each_time_and_lands_in_the_exceptions_list_when_attempts_run_out():
    policy = CallPolicy(first_wait_seconds=30, max_wait_seconds=600, max_attempts=4)
    call = ProviderCall(kind=REFUND, provider="fake", key="R1", order_no="O1", next_attempt_at=NOW, created_at=NOW,
                        step=SEND)
    waits = []
    for attempt in range(1, 4):
        call.attempts = attempt
        call.retry_later(NOW, policy)
        waits.append((call.next_attempt_at - NOW).total_seconds())
    assert waits == [30, 60, 120] and call.state == PENDING
    call.attempts = 4
    call.retry_later(NOW, policy)
    assert call.state == EXCEPTION and "no answer after 4 attempts" in call.last_error
    call.send_again(NOW)
    assert (call.state, call.attempts, call.next_attempt_at, call.step) == (PENDING, 0, NOW, SEND)
    call.finish(NOW)
    with pytest.raises(IllegalMove):
        call.give_up(NOW, "too late")
    assert call.state == DONE


def test_an_e_ticket_number_states_region_and_day_in_twenty_digits():
    number = e_ticket_number("370200", "261123", 12_345_678)
    assert number == "33702002611232345678" and len(number) == 20


def test_a_kept_notification_has_no_personal_data():
    kept = kept_notification({"id": "N1", "resource": {"out_trade_no": "O1", "payer": {"openid": "o-123"},
                                                       "amount": {"total": 100}}, "buyer_logon_id": "13*******12"})
    assert kept == {"id": "N1", "resource": {"out_trade_no": "O1", "amount": {"total": 100}}}


def test_something_in_progress_is_asked_about_less_often_as_it_ages():
    policy = CallPolicy(first_wait_seconds=30, max_wait_seconds=1800)
    assert [policy.wait_while_pending(timedelta(minutes=m)).total_seconds() for m in (0, 4, 60, 60 * 48)] == \
        [30, 60, 900, 1800]
