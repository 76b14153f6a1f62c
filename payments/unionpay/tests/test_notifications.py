"""UnionPay back notifications: delivered by the sandbox, verified and read by the provider."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
from cryptography.hazmat.primitives import serialization

from payments.base import IncomingNotification, NotificationRejected, RefundRequest, ResultState
from payments.sandbox.unionpay.pki import UNIONPAY_SIGN_CN, issue, issue_signing_cert, subject_name
from payments.unionpay import acp

from .support import new_number, open_order, wait_until
from tests.timeline import wall_now


def _fields(incoming: IncomingNotification) -> dict[str, str]:
    return dict(parse_qsl(incoming.body.decode("utf-8"), keep_blank_values=True))


def _resigned(incoming: IncomingNotification, key, cert, **changes) -> IncomingNotification:
    fields = {**_fields(incoming), **changes}
    fields["signPubKeyCert"] = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    body = urlencode(acp.sign(fields, key, str(cert.serial_number))).encode("ascii")
    return replace(incoming, body=body)


@pytest.fixture
def paid(sandbox, receiver):
    """An order paid by the payer, and the notification our receiver got for it."""
    order_no = open_order(sandbox.provider, amount_fen=39800, notify_url=receiver.url)
    trade_no = sandbox.client.pay(order_no)["query_id"]
    return order_no, trade_no, receiver.wait_for(1)[0]


def test_payment_notification_reads_as_success_with_the_amount_in_fen(provider, paid):
    order_no, trade_no, incoming = paid

    notification = provider.parse_notification(incoming)

    assert notification.kind == "payment"
    assert notification.state is ResultState.SUCCESS
    assert (notification.order_no, notification.amount_fen) == (order_no, 39800)
    assert notification.provider_trade_no == trade_no == notification.notification_id
    assert notification.paid_at is not None
    assert "signature" not in notification.raw


def test_acknowledged_notification_is_delivered_once(sandbox, paid):
    wait_until(lambda: sandbox.client.deliveries())

    deliveries = sandbox.client.deliveries()

    assert [(d["attempt"], d["status"], d["acknowledged"]) for d in deliveries] == [(1, 200, True)]


def test_tampered_notification_is_rejected(provider, paid):
    incoming = paid[2]
    tampered = replace(incoming, body=incoming.body.replace(b"txnAmt=39800", b"txnAmt=1"))

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(tampered)
    assert rejected.value.reason == "bad_signature"


def test_notification_signed_with_another_key_is_rejected(provider, paid, pki, stranger_key):
    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(_resigned(paid[2], stranger_key, pki.sign_cert))
    assert rejected.value.reason == "bad_signature"


def test_notification_with_a_certificate_from_another_ca_is_rejected(provider, paid, stranger_key):
    # same name as the sandbox's intermediate CA, another key
    ca = issue(subject_name("ACP Sandbox OCA"), stranger_key.public_key(), None, stranger_key, ca=True)
    cert = issue_signing_cert(ca, stranger_key, UNIONPAY_SIGN_CN, stranger_key)

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(_resigned(paid[2], stranger_key, cert))
    assert rejected.value.reason == "untrusted_certificate"


def test_notification_with_an_expired_certificate_is_rejected(provider, paid, pki):
    # ACP notifications carry no timestamp to judge freshness by; the certificate's dates are checked
    now = wall_now()
    cert = issue_signing_cert(pki.middle_cert, pki.middle_key, UNIONPAY_SIGN_CN, pki.sign_key,
                              not_before=now - timedelta(days=800), not_after=now - timedelta(days=1))

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(_resigned(paid[2], pki.sign_key, cert))
    assert rejected.value.reason == "certificate_not_valid_now"


def test_notification_for_another_merchant_is_rejected(provider, paid, pki):
    forged = _resigned(paid[2], pki.sign_key, pki.sign_cert, merId="898000000000002")

    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(forged)
    assert rejected.value.reason == "wrong_merchant"


def test_notification_that_is_not_a_form_is_rejected(provider):
    with pytest.raises(NotificationRejected) as rejected:
        provider.parse_notification(IncomingNotification({}, b"\xff\xfe not a form", "text/plain"))
    assert rejected.value.reason == "malformed"


def test_receiver_answering_failure_makes_the_sandbox_retry(sandbox, receiver):
    receiver.handled = False
    order_no = open_order(sandbox.provider, notify_url=receiver.url)
    trade_no = sandbox.client.pay(order_no)["query_id"]

    receiver.wait_for(3)
    receiver.handled = True
    wait_until(lambda: any(d["acknowledged"] for d in sandbox.client.deliveries()))

    deliveries = [d for d in sandbox.client.deliveries() if d["notification_id"] == trade_no]
    assert [d["status"] for d in deliveries[:3]] == [400, 400, 400]
    assert [d["attempt"] for d in deliveries] == list(range(1, len(deliveries) + 1))
    assert deliveries[-1]["acknowledged"] is True


def test_duplicate_notifications_fault_sends_extra_copies(sandbox, receiver):
    sandbox.client.set_faults(duplicate_notifications=2)
    order_no = open_order(sandbox.provider, notify_url=receiver.url)
    sandbox.client.pay(order_no)

    copies = receiver.wait_for(3)

    notifications = [sandbox.provider.parse_notification(c) for c in copies]
    assert {(n.order_no, n.notification_id, n.amount_fen) for n in notifications} == {
        (order_no, notifications[0].notification_id, 39800)}


def test_lost_notifications_leave_the_query_to_tell(sandbox, receiver):
    sandbox.client.set_faults(lose_notifications=True)
    order_no = open_order(sandbox.provider, notify_url=receiver.url)
    sandbox.client.pay(order_no)

    assert sandbox.provider.query(order_no).state is ResultState.SUCCESS
    assert sandbox.client.deliveries() == [] and receiver.received == []


def test_refund_notification_reads_as_a_refund(sandbox, receiver):
    order_no = open_order(sandbox.provider, amount_fen=39800)
    trade_no = sandbox.client.pay(order_no)["query_id"]
    refund_no = new_number("R")
    accepted = sandbox.provider.refund(RefundRequest(order_no, refund_no, 5000, 39800, "退费",
                                                     notify_url=receiver.url, provider_trade_no=trade_no))

    notification = sandbox.provider.parse_notification(receiver.wait_for(1)[0])

    assert notification.kind == "refund"
    assert notification.state is ResultState.SUCCESS
    assert (notification.order_no, notification.refund_no, notification.amount_fen) == (order_no, refund_no, 5000)
    assert notification.provider_trade_no == trade_no
    assert notification.provider_refund_no == accepted.provider_refund_no


def test_reset_forgets_orders_faults_and_deliveries(sandbox, paid):
    sandbox.client.set_faults(api_5xx=True)

    state = sandbox.client.reset()

    assert state["faults"]["api_5xx"] is False and state["deliveries"] == []
    assert sandbox.provider.query(paid[0]).provider_state == "34"
