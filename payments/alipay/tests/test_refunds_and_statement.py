"""Refunds, their notifications, and the daily trade bill, against the sandbox gateway."""
from __future__ import annotations

from datetime import timedelta

import pytest

from payments.alipay.provider import StatementUnavailable
from payments.base import RefundRequest, ResultState

from .conftest import new_order_no, prepay_request
from tests.timeline import wall_today


@pytest.fixture
def paid_order(provider, sandbox, receiver):
    """A paid 100.00 yuan order whose notifications go to the receiver: (order_no, trade_no)."""
    order_no = new_order_no()
    provider.prepay(prepay_request(order_no, 10000, "qr", notify_url=receiver.url))
    trade_no = sandbox.client.pay(order_no)["trade_no"]
    receiver.wait_for(order_no)
    return order_no, trade_no


def refund_request(order_no: str, refund_no: str, amount_fen: int) -> RefundRequest:
    return RefundRequest(order_no=order_no, refund_no=refund_no, amount_fen=amount_fen, total_fen=10000,
                         reason="入账失败原路退回")


def test_refund_of_a_paid_order_succeeds_and_the_refund_query_agrees(provider, paid_order):
    order_no, _ = paid_order

    refund = provider.refund(refund_request(order_no, f"R{order_no}", 2550))
    queried = provider.query_refund(order_no, f"R{order_no}")

    assert refund.state is ResultState.SUCCESS and refund.amount_fen == 2550
    assert queried.state is ResultState.SUCCESS and queried.amount_fen == 2550
    assert queried.refund_no == f"R{order_no}"


def test_refund_notification_parses_as_a_refund(provider, paid_order, receiver):
    order_no, trade_no = paid_order

    provider.refund(refund_request(order_no, f"R{order_no}", 2550))
    notification = provider.parse_notification(receiver.wait_for(order_no, count=2)[1])

    assert notification.kind == "refund"
    assert notification.state is ResultState.SUCCESS
    assert notification.refund_no == f"R{order_no}"
    assert notification.amount_fen == 2550
    assert notification.provider_trade_no == trade_no


def test_refund_sent_twice_with_the_same_refund_no_moves_money_once(provider, paid_order):
    order_no, _ = paid_order

    first = provider.refund(refund_request(order_no, f"R{order_no}", 10000))
    again = provider.refund(refund_request(order_no, f"R{order_no}", 10000))

    assert first.state is ResultState.SUCCESS and again.state is ResultState.SUCCESS
    assert provider.query(order_no).provider_state == "TRADE_CLOSED"  # all refunded
    lines = [line for line in provider.statement(wall_today()) if line.order_no == order_no]
    assert [line.amount_fen for line in lines if line.kind == "refund"] == [10000]


def test_refund_beyond_what_was_paid_fails(provider, paid_order):
    order_no, _ = paid_order

    refund = provider.refund(refund_request(order_no, f"R{order_no}", 10001))

    assert refund.state is ResultState.FAIL and refund.error_code == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"


def test_refund_query_of_a_refund_never_made_fails_so_it_may_be_sent_again(provider, paid_order):
    order_no, _ = paid_order

    queried = provider.query_refund(order_no, f"R{order_no}")

    assert queried.state is ResultState.FAIL and queried.error_code == "refund_not_found"


def test_refund_when_alipay_answers_5xx_is_unknown(provider, sandbox, paid_order):
    order_no, _ = paid_order
    sandbox.client.set_faults(api_5xx=True)

    assert provider.refund(refund_request(order_no, f"R{order_no}", 100)).state is ResultState.UNKNOWN
    assert provider.query_refund(order_no, f"R{order_no}").state is ResultState.UNKNOWN


def test_statement_lists_the_paid_order_and_the_refund_in_fen(provider, paid_order):
    order_no, trade_no = paid_order
    provider.refund(refund_request(order_no, f"R{order_no}", 2550))

    lines = [line for line in provider.statement(wall_today()) if line.order_no == order_no]

    assert [(line.kind, line.amount_fen, line.refund_no) for line in lines] == [
        ("payment", 10000, None), ("refund", 2550, f"R{order_no}")]
    assert all(line.provider_trade_no == trade_no and line.at is not None for line in lines)


def test_statement_of_a_day_without_a_bill_is_empty(provider):
    assert provider.statement(wall_today() + timedelta(days=1)) == []


def test_statement_that_cannot_be_fetched_raises_rather_than_claiming_no_trades(provider, sandbox):
    sandbox.client.set_faults(api_5xx=True)

    with pytest.raises(StatementUnavailable):
        provider.statement(wall_today())
