"""Refunds, refund notifications and the daily statement against the sandbox gateway."""
from __future__ import annotations

from datetime import date

from payments.base import RefundRequest, ResultState
from payments.wechatpay.tests.helpers import new_order_no, prepay_request, wait_until
from tests.timeline import wall_today


def _paid_order(sandbox, amount_fen=12345, notify_url="http://127.0.0.1:9/notify") -> tuple[str, str]:
    order_no = new_order_no()
    sandbox.provider.prepay(prepay_request(order_no, amount_fen=amount_fen, notify_url=notify_url))
    return order_no, sandbox.client.pay(order_no)["transaction_id"]


def test_refund_of_a_paid_order_succeeds_and_is_notified_as_a_refund(sandbox, receiver):
    order_no, trade_no = _paid_order(sandbox, notify_url=receiver.url)
    refund_no = "R" + order_no

    accepted = sandbox.provider.refund(RefundRequest(order_no, refund_no, 2345, 12345, "多缴退费",
                                                     notify_url=receiver.url, provider_trade_no=trade_no))
    settled = wait_until(lambda: (r := sandbox.provider.query_refund(order_no, refund_no)).state
                         is ResultState.SUCCESS and r)
    notifications = [sandbox.provider.parse_notification(n) for n in receiver.wait_for(2)]
    [notification] = [n for n in notifications if n.kind == "refund"]

    assert (accepted.state, accepted.provider_state) == (ResultState.WAITING, "PROCESSING")
    assert (settled.amount_fen, settled.provider_refund_no) == (2345, accepted.provider_refund_no)
    assert notification.kind == "refund"
    assert notification.state is ResultState.SUCCESS
    assert (notification.order_no, notification.refund_no) == (order_no, refund_no)
    assert notification.amount_fen == 2345


def test_refunding_the_same_refund_no_twice_refunds_once(sandbox):
    order_no, _ = _paid_order(sandbox, amount_fen=1000)
    request = RefundRequest(order_no, "R" + order_no, 1000, 1000, "退费")

    first, second = sandbox.provider.refund(request), sandbox.provider.refund(request)

    assert first.provider_refund_no == second.provider_refund_no
    assert first.state is not ResultState.FAIL and second.state is not ResultState.FAIL


def test_refunding_more_than_was_paid_fails(sandbox):
    order_no, _ = _paid_order(sandbox, amount_fen=1000)

    result = sandbox.provider.refund(RefundRequest(order_no, "R" + order_no, 1001, 1000, "退费"))

    assert (result.state, result.error_code) == (ResultState.FAIL, "invalid_request")


def test_refunding_an_unpaid_order_fails(sandbox):
    order_no = new_order_no()
    sandbox.provider.prepay(prepay_request(order_no, amount_fen=1000))

    result = sandbox.provider.refund(RefundRequest(order_no, "R" + order_no, 100, 1000, "退费"))

    assert result.state is ResultState.FAIL


def test_query_of_a_refund_wechat_does_not_know_fails(provider):
    result = provider.query_refund(new_order_no(), "RNOSUCHREFUND")

    assert (result.state, result.error_code) == (ResultState.FAIL, "not_found")


def test_a_refunded_order_still_queries_as_paid(sandbox):
    order_no, _ = _paid_order(sandbox, amount_fen=1000)
    sandbox.provider.refund(RefundRequest(order_no, "R" + order_no, 100, 1000, "退费"))

    result = sandbox.provider.query(order_no)

    assert (result.state, result.provider_state, result.amount_fen) == (ResultState.SUCCESS, "REFUND", 1000)


def test_statement_lists_the_paid_order_and_the_refund_in_fen(sandbox):
    order_no, trade_no = _paid_order(sandbox, amount_fen=30001)
    unpaid = new_order_no()
    sandbox.provider.prepay(prepay_request(unpaid))
    sandbox.provider.refund(RefundRequest(order_no, "R" + order_no, 1, 30001, "退费"))

    lines = sandbox.provider.statement(wall_today())

    assert [(l.kind, l.order_no, l.amount_fen, l.provider_trade_no, l.refund_no) for l in lines] == [
        ("payment", order_no, 30001, trade_no, None),
        ("refund", order_no, 1, trade_no, "R" + order_no),
    ]
    assert all(l.at is not None and l.at.utcoffset() is not None for l in lines)


def test_statement_of_a_day_without_trades_is_empty(provider):
    assert provider.statement(date(2020, 1, 1)) == []
