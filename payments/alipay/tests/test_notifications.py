"""Asynchronous notifications: delivered by the sandbox over HTTP, verified by the provider."""
from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives import serialization

from payments.base import IncomingNotification, NotificationRejected, ResultState

from .conftest import form, new_order_no, prepay_request, resigned, wait_until


@pytest.fixture
def paid_notification(provider, sandbox, receiver):
    """A genuine payment notification for a 3980.00 yuan order, as our notify URL got it."""
    order_no = new_order_no()
    provider.prepay(prepay_request(order_no, 398000, "qr", notify_url=receiver.url))
    sandbox.client.pay(order_no)
    return receiver.wait_for(order_no)[0]


def test_payment_notification_reaches_our_notify_url_and_parses_as_success(provider, sandbox, receiver):
    order_no = new_order_no()
    provider.prepay(prepay_request(order_no, 398000, "qr", notify_url=receiver.url))
    paid = sandbox.client.pay(order_no)

    [incoming] = receiver.wait_for(order_no)
    notification = provider.parse_notification(incoming)

    assert notification.kind == "payment"
    assert notification.state is ResultState.SUCCESS
    assert notification.order_no == order_no
    assert notification.amount_fen == 398000
    assert notification.provider_trade_no == paid["trade_no"]
    assert notification.notification_id and notification.provider_state == "TRADE_SUCCESS"
    assert notification.paid_at is not None
    wait_until(lambda: any(d["acknowledged"] for d in sandbox.client.deliveries()), "the acknowledgement")


def test_acknowledgement_is_exactly_success_in_plain_text(provider):
    handled, not_handled = provider.acknowledge(True), provider.acknowledge(False)

    assert (handled.status, handled.body, handled.content_type) == (200, b"success", "text/plain")
    assert not_handled.body != b"success"


def test_closed_trade_notification_parses_as_fail(provider, sandbox, receiver):
    order_no = new_order_no()
    provider.prepay(prepay_request(order_no, 100, "qr", notify_url=receiver.url))
    sandbox.client.cancel(order_no)

    notification = provider.parse_notification(receiver.wait_for(order_no)[0])

    assert notification.state is ResultState.FAIL and notification.provider_state == "TRADE_CLOSED"


def test_tampered_body_is_rejected(provider, paid_notification):
    body = paid_notification.body.replace(b"total_amount=3980.00", b"total_amount=39.80")
    assert body != paid_notification.body

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(IncomingNotification(paid_notification.headers, body,
                                                         paid_notification.content_type))
    assert rejected.value.reason == "bad_signature"


def test_notification_signed_with_another_key_is_rejected(provider, paid_notification, stranger_pem):
    stranger = serialization.load_pem_private_key(stranger_pem.encode(), None)

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(resigned(paid_notification, stranger))
    assert rejected.value.reason == "bad_signature"


def test_notification_for_another_app_id_is_rejected(provider, paid_notification, alipay_private_key):
    forged = resigned(paid_notification, alipay_private_key, app_id="2021000199999999")

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(forged)
    assert rejected.value.reason == "wrong_app_id"


def test_notification_for_another_seller_is_rejected(provider, paid_notification, alipay_private_key):
    forged = resigned(paid_notification, alipay_private_key, seller_id="2088199999999999")

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(forged)
    assert rejected.value.reason == "wrong_merchant"


@pytest.mark.parametrize("amount", ["3980.0", "3980", "3980.000", "3,980.00", "-3980.00", ""])
def test_notification_amount_not_in_yuan_with_two_decimals_is_rejected(provider, paid_notification,
                                                                     alipay_private_key, amount):
    forged = resigned(paid_notification, alipay_private_key, total_amount=amount)

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(forged)
    assert rejected.value.reason == "bad_amount"


def test_notification_without_signature_is_rejected(provider, paid_notification):
    params = form(paid_notification)
    del params["sign"]
    body = "&".join(f"{k}={v}" for k, v in params.items()).encode()

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(IncomingNotification({}, body, "application/x-www-form-urlencoded"))
    assert rejected.value.reason == "missing_signature"


def test_notification_that_is_not_a_form_post_is_rejected(provider):
    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(IncomingNotification({}, b'{"trade_status":"TRADE_SUCCESS"}',
                                                         "application/json"))
    assert rejected.value.reason == "malformed"


def test_old_notify_time_is_accepted_because_alipay_sets_no_freshness_rule(provider, paid_notification,
                                                                         alipay_private_key):
    # Alipay retries for about 25 hours and documents no freshness check: notify_id identifies
    # a notification, and the core's compare-and-set makes a replay change nothing.
    replayed = resigned(paid_notification, alipay_private_key, notify_time="2020-01-01 00:00:00")

    assert provider.parse_notification(replayed).state is ResultState.SUCCESS


def test_receiver_answering_failure_makes_the_sandbox_retry_with_the_same_notify_id(provider, sandbox,
                                                                                     receiver):
    receiver.handled = False
    order_no = new_order_no()
    provider.prepay(prepay_request(order_no, 100, "qr", notify_url=receiver.url))
    sandbox.client.pay(order_no)

    # 4 min and 10 min later, at time_scale 0.001
    copies = receiver.wait_for(order_no, count=3)

    deliveries = sandbox.client.deliveries()
    assert [d["attempt"] for d in deliveries][:3] == [1, 2, 3]
    assert not any(d["acknowledged"] for d in deliveries)
    assert len({form(copy)["notify_id"] for copy in copies}) == 1
    assert all(provider.parse_notification(copy).state is ResultState.SUCCESS for copy in copies)


def test_duplicate_notifications_fault_sends_extra_copies(provider, sandbox, receiver):
    sandbox.client.set_faults(duplicate_notifications=2)
    order_no = new_order_no()
    provider.prepay(prepay_request(order_no, 100, "qr", notify_url=receiver.url))
    sandbox.client.pay(order_no)

    copies = receiver.wait_for(order_no, count=3)

    ids = {provider.parse_notification(copy).notification_id for copy in copies}
    assert len(copies) == 3 and len(ids) == 1


def test_lost_notifications_leave_the_query_to_tell_the_payment(provider, sandbox, receiver):
    sandbox.client.set_faults(lose_notifications=True)
    order_no = new_order_no()
    provider.prepay(prepay_request(order_no, 100, "qr", notify_url=receiver.url))
    sandbox.client.pay(order_no)

    time.sleep(0.3)

    assert receiver.of(order_no) == []
    assert provider.query(order_no).state is ResultState.SUCCESS
