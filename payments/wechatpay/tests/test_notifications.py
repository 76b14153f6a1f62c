"""Notifications: delivery by the sandbox, verification by the provider, and the refusals."""
from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from payments.base import IncomingNotification, NotificationRejected, ResultState
from payments.sandbox.wechatpay.keys import signed_headers
from payments.wechatpay.tests.helpers import (forge, new_order_no, prepay_request,
                                              transaction_resource, wait_until)
from tests.timeline import wall_timestamp


def _another_private_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pay_and_receive(sandbox, receiver, amount_fen=12345) -> tuple[str, IncomingNotification]:
    order_no = new_order_no()
    sandbox.provider.prepay(prepay_request(order_no, amount_fen=amount_fen, notify_url=receiver.url))
    sandbox.client.pay(order_no)
    return order_no, receiver.wait_for(1)[0]


def test_payment_notification_is_received_and_parsed_as_success_with_the_amount(sandbox, receiver):
    order_no, incoming = _pay_and_receive(sandbox, receiver, amount_fen=8888)

    notification = sandbox.provider.parse_notification(incoming)

    assert notification.kind == "payment"
    assert notification.state is ResultState.SUCCESS
    assert (notification.order_no, notification.amount_fen) == (order_no, 8888)
    assert notification.provider_trade_no == sandbox.provider.query(order_no).provider_trade_no
    assert notification.notification_id
    assert "payer" not in notification.raw["resource"]
    deliveries = wait_until(lambda: sandbox.client.deliveries())
    assert [(d["attempt"], d["status"], d["acknowledged"]) for d in deliveries] == [(1, 204, True)]


def test_notification_signed_by_the_platform_key_is_accepted(provider, keys):
    notification = provider.parse_notification(forge(keys, transaction_resource(keys)))

    assert (notification.order_no, notification.amount_fen) == ("T0000000000000001", 12345)


def test_headers_spelled_in_lower_case_are_accepted(provider, keys):
    incoming = forge(keys, transaction_resource(keys))
    lowered = IncomingNotification({k.lower(): v for k, v in incoming.headers.items()}, incoming.body)

    assert provider.parse_notification(lowered).state is ResultState.SUCCESS


def test_tampered_notification_body_is_rejected(sandbox, receiver):
    _, incoming = _pay_and_receive(sandbox, receiver)
    tampered = IncomingNotification(incoming.headers, incoming.body.replace(b"TRANSACTION.SUCCESS",
                                                                            b"TRANSACTION.SUCCESS "))

    with pytest.raises(NotificationRejected) as rejected:
        sandbox.provider.parse_notification(tampered)
    assert rejected.value.reason == "bad_signature"


def test_notification_signed_with_another_key_is_rejected(provider, keys):
    incoming = forge(keys, transaction_resource(keys), signing_pem=_another_private_pem())

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(incoming)
    assert rejected.value.reason == "bad_signature"


def test_notification_for_another_merchant_is_rejected(provider, keys):
    incoming = forge(keys, transaction_resource(keys, mchid="1230000109"))

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(incoming)
    assert rejected.value.reason == "wrong_merchant"


def test_notification_for_another_app_is_rejected(provider, keys):
    incoming = forge(keys, transaction_resource(keys, appid="wx0000000000000000"))

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(incoming)
    assert rejected.value.reason == "wrong_app"


@pytest.mark.parametrize("seconds_off", [-301, -3600, 330])  # whole seconds: keep a margin ahead
def test_notification_signed_more_than_five_minutes_away_from_now_is_rejected(provider, keys, seconds_off):
    incoming = forge(keys, transaction_resource(keys), timestamp=wall_timestamp() + seconds_off)

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(incoming)
    assert rejected.value.reason == "stale_timestamp"


@pytest.mark.parametrize("serial", ["PUB_KEY_ID_0100000000000000000000000000",  # not ours
                                    "5157F09EFDC096DE15EBE81A47057A72"])  # a certificate serial
def test_notification_naming_a_key_we_do_not_hold_is_rejected(provider, keys, serial):
    incoming = forge(keys, transaction_resource(keys), serial=serial)

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(incoming)
    assert rejected.value.reason == "unknown_serial"


def test_notification_encrypted_with_another_apiv3_key_is_rejected(provider, keys):
    incoming = forge(keys, transaction_resource(keys), apiv3_key="A" * 32)

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(incoming)
    assert rejected.value.reason == "undecryptable"


def test_notification_without_signature_headers_is_rejected(provider, keys):
    incoming = forge(keys, transaction_resource(keys))

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(IncomingNotification({}, incoming.body))
    assert rejected.value.reason == "missing_signature"


def test_signed_notification_that_is_not_json_is_rejected(provider, keys):
    body = "not json"

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(IncomingNotification(signed_headers(keys, body), body.encode()))
    assert rejected.value.reason == "malformed"


def test_receiver_answering_failure_makes_the_sandbox_retry_until_acknowledged(sandbox, receiver):
    receiver.handled = False
    _pay_and_receive(sandbox, receiver)

    failed = wait_until(lambda: [d for d in sandbox.client.deliveries() if not d["acknowledged"]][2:])
    receiver.handled = True
    acknowledged = wait_until(lambda: [d for d in sandbox.client.deliveries() if d["acknowledged"]])

    assert all(d["status"] == 400 for d in failed)
    deliveries = sandbox.client.deliveries()
    assert len({d["notification_id"] for d in deliveries}) == 1
    assert [d["attempt"] for d in deliveries] == list(range(1, len(deliveries) + 1))
    assert acknowledged[0]["attempt"] == len(deliveries)
    bodies = {incoming.body for incoming in receiver.received}
    assert len(bodies) == 1  # the same notification each time, signed afresh


def test_duplicate_notifications_fault_sends_extra_copies_of_the_same_notification(sandbox, receiver):
    sandbox.client.set_faults(duplicate_notifications=2)
    _pay_and_receive(sandbox, receiver)

    copies = receiver.wait_for(3)
    parsed = [sandbox.provider.parse_notification(incoming) for incoming in copies]

    assert len({n.notification_id for n in parsed}) == 1


def test_lost_notifications_leave_the_payment_to_be_found_by_query(sandbox, receiver):
    sandbox.client.set_faults(lose_notifications=True)
    order_no = new_order_no()
    sandbox.provider.prepay(prepay_request(order_no, notify_url=receiver.url))
    sandbox.client.pay(order_no)

    time.sleep(0.1)
    assert receiver.received == []
    assert sandbox.provider.query(order_no).state is ResultState.SUCCESS


def test_acknowledgement_is_an_empty_204_when_handled_and_a_400_fail_otherwise(provider):
    handled, not_handled = provider.acknowledge(True), provider.acknowledge(False)

    assert (handled.status, handled.body) == (204, b"")
    assert not_handled.status == 400
    assert b'"code": "FAIL"' in not_handled.body
