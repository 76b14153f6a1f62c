"""The UnionPay provider against the sandbox gateway over HTTP: orders, refunds, statements, faults."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from payments.base import PaymentProvider, RefundRequest, ResultState
from payments.registry import build_providers
from payments.sandbox.unionpay import sandbox_provider_settings
from payments.sandbox.unionpay.pki import issue, issue_signing_cert, subject_name
from payments.unionpay.provider import StatementUnavailable, txn_time_of
from payments.unionpay.testing import sandboxed_provider

from .support import new_number, open_order, prepay_request
from tests.timeline import wall_now, wall_today


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def _cert_pem(cert) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def test_registry_builds_the_provider_from_sandbox_settings(key_dir):
    settings = sandbox_provider_settings(key_dir, "http://127.0.0.1:1")

    providers = build_providers({"unionpay": ("payments.unionpay.provider:build", settings)})

    assert isinstance(providers["unionpay"], PaymentProvider)
    assert providers["unionpay"].methods == frozenset({"qr"})


def test_order_and_refund_numbers_carry_the_txn_time_unionpay_names_them_by():
    assert txn_time_of("2025013123595912345678") == "20250131235959"
    assert txn_time_of("R2025013123595912345678") == "20250131235959"
    assert txn_time_of("2025023112000012345678") is None  # no 31 February
    assert txn_time_of("ORDER12345") is None


def test_prepay_answers_waiting_with_a_qr_code_that_opens_the_cashier(provider):
    result = provider.prepay(prepay_request(new_number()))

    assert result.state is ResultState.WAITING
    page = requests.get(result.qr_code, timeout=5)
    assert page.status_code == 200
    assert "确认支付" in page.text and "取消" in page.text and "398.00" in page.text


def test_payer_confirming_on_the_cashier_page_pays_the_order(provider):
    order_no = new_number()
    qr_code = provider.prepay(prepay_request(order_no)).qr_code

    page = requests.post(qr_code, data={"action": "pay"}, timeout=5)

    assert "支付成功" in page.text
    assert provider.query(order_no).state is ResultState.SUCCESS


def test_query_moves_from_waiting_to_success_when_the_payer_pays(sandbox):
    order_no = open_order(sandbox.provider, amount_fen=12345)

    before = sandbox.provider.query(order_no)
    paid = sandbox.client.pay(order_no)
    after = sandbox.provider.query(order_no)

    assert before.state is ResultState.WAITING and before.provider_trade_no is None
    assert after.state is ResultState.SUCCESS
    assert after.amount_fen == 12345
    assert after.provider_trade_no == paid["query_id"]
    assert after.paid_at is not None and abs(after.paid_at - wall_now()) < timedelta(minutes=1)


def test_query_of_an_order_the_payer_cancelled_is_fail(sandbox):
    order_no = open_order(sandbox.provider)

    sandbox.client.cancel(order_no)

    assert sandbox.provider.query(order_no).state is ResultState.FAIL


def test_query_of_an_order_unionpay_does_not_know_is_waiting(provider):
    result = provider.query(new_number())

    assert result.state is ResultState.WAITING
    assert result.provider_state == "34"


def test_prepay_refuses_a_method_unionpay_does_not_offer(provider):
    result = provider.prepay(prepay_request(new_number(), method="jsapi"))

    assert result.state is ResultState.FAIL and result.error_code == "unsupported_method"


def test_prepay_refuses_an_order_number_without_its_creation_time(provider):
    result = provider.prepay(prepay_request("ORDER0000000001"))

    assert result.state is ResultState.FAIL and result.error_code == "bad_order_no"


def test_prepay_of_the_same_order_twice_is_refused_as_a_duplicate(provider):
    order_no = open_order(provider)

    result = provider.prepay(prepay_request(order_no))

    assert result.state is ResultState.FAIL and result.error_code == "12"


def test_close_of_an_unpaid_order_succeeds_and_the_payer_can_no_longer_pay(sandbox):
    order_no = open_order(sandbox.provider)

    result = sandbox.provider.close(order_no)

    assert result.state is ResultState.SUCCESS
    with pytest.raises(requests.HTTPError):
        sandbox.client.pay(order_no)
    assert sandbox.provider.query(order_no).state is ResultState.FAIL
    assert sandbox.provider.close(order_no).state is ResultState.SUCCESS


def test_close_of_an_order_unionpay_never_saw_succeeds(provider):
    assert provider.close(new_number()).state is ResultState.SUCCESS


def test_close_of_a_paid_order_fails_with_order_paid(sandbox):
    order_no = open_order(sandbox.provider)
    sandbox.client.pay(order_no)

    result = sandbox.provider.close(order_no)

    assert result.state is ResultState.FAIL and result.error_code == "order_paid"


def test_refund_of_a_paid_order_is_accepted_then_query_refund_succeeds(sandbox):
    order_no = open_order(sandbox.provider, amount_fen=39800)
    trade_no = sandbox.client.pay(order_no)["query_id"]
    refund_no = new_number("R")

    accepted = sandbox.provider.refund(RefundRequest(order_no, refund_no, 10000, 39800, "多缴退费",
                                                     provider_trade_no=trade_no))
    result = sandbox.provider.query_refund(order_no, refund_no)

    assert accepted.state is ResultState.WAITING
    assert result.state is ResultState.SUCCESS
    assert result.amount_fen == 10000
    assert result.provider_refund_no == accepted.provider_refund_no


def test_refund_without_the_trade_number_finds_it_by_query(sandbox):
    order_no = open_order(sandbox.provider)
    sandbox.client.pay(order_no)

    result = sandbox.provider.refund(RefundRequest(order_no, new_number("R"), 39800, 39800, "退费"))

    assert result.state is ResultState.WAITING


def test_refund_of_more_than_was_paid_is_refused(sandbox):
    order_no = open_order(sandbox.provider, amount_fen=100)
    trade_no = sandbox.client.pay(order_no)["query_id"]

    result = sandbox.provider.refund(RefundRequest(order_no, new_number("R"), 101, 100, "退费",
                                                   provider_trade_no=trade_no))

    assert result.state is ResultState.FAIL


def test_query_refund_of_a_refund_unionpay_never_received_is_fail(provider):
    result = provider.query_refund(new_number(), new_number("R"))

    assert result.state is ResultState.FAIL and result.provider_state == "34"


def test_statement_lists_the_day_payment_and_refund_in_fen(sandbox):
    order_no = open_order(sandbox.provider, amount_fen=39800)
    trade_no = sandbox.client.pay(order_no)["query_id"]
    refund_no = new_number("R")
    sandbox.provider.refund(RefundRequest(order_no, refund_no, 9800, 39800, "退费", provider_trade_no=trade_no))

    lines = sandbox.provider.statement(wall_today())

    payment = next(line for line in lines if line.kind == "payment")
    refund = next(line for line in lines if line.kind == "refund")
    assert (payment.order_no, payment.amount_fen, payment.provider_trade_no) == (order_no, 39800, trade_no)
    assert (refund.order_no, refund.refund_no, refund.amount_fen) == (order_no, refund_no, 9800)


def test_statement_of_a_day_without_trades_is_empty(provider):
    assert provider.statement((wall_now() - timedelta(days=3)).date()) == []


def test_gateway_errors_make_every_call_unknown_never_fail(sandbox):
    order_no = open_order(sandbox.provider)
    sandbox.client.set_faults(api_5xx=True)

    assert sandbox.provider.prepay(prepay_request(new_number())).state is ResultState.UNKNOWN
    assert sandbox.provider.query(order_no).state is ResultState.UNKNOWN
    assert sandbox.provider.close(order_no).state is ResultState.UNKNOWN
    refund = RefundRequest(order_no, new_number("R"), 1, 39800, "退费", provider_trade_no="1")
    assert sandbox.provider.refund(refund).state is ResultState.UNKNOWN
    assert sandbox.provider.query_refund(order_no, refund.refund_no).state is ResultState.UNKNOWN
    with pytest.raises(StatementUnavailable):
        sandbox.provider.statement(wall_today())


def test_a_slow_gateway_makes_prepay_and_query_unknown(key_dir):
    with sandboxed_provider(key_dir, timeout=0.2) as sandbox:
        order_no = open_order(sandbox.provider)
        sandbox.client.set_faults(api_delay_seconds=0.6)

        prepay = sandbox.provider.prepay(prepay_request(new_number()))
        query = sandbox.provider.query(order_no)

    assert (prepay.state, prepay.error_code) == (ResultState.UNKNOWN, "timeout")
    assert (query.state, query.error_code) == (ResultState.UNKNOWN, "timeout")


def test_request_signed_with_another_merchant_key_is_refused_by_the_gateway(key_dir, stranger_key):
    with sandboxed_provider(key_dir, sign_key=_pem(stranger_key)) as sandbox:
        result = sandbox.provider.prepay(prepay_request(new_number()))

    assert result.state is ResultState.FAIL and result.error_code == "11"


def test_request_naming_another_certificate_is_refused_by_the_gateway(key_dir, pki, stranger_key):
    merchant_key = (key_dir / "unionpay_merchant_sign.key.pem").read_text()
    other_cert = issue_signing_cert(pki.middle_cert, pki.middle_key, "041@Z1@另一商户@00000001", stranger_key)

    with sandboxed_provider(key_dir, sign_key=merchant_key, sign_cert=_cert_pem(other_cert)) as sandbox:
        result = sandbox.provider.prepay(prepay_request(new_number()))

    assert result.state is ResultState.FAIL and result.error_code == "11"


def test_answers_not_signed_by_the_configured_unionpay_chain_are_unknown(key_dir, stranger_key):
    ca_key = stranger_key
    root = issue(subject_name("Another Root"), ca_key.public_key(), None, ca_key, ca=True)
    middle = issue(subject_name("Another OCA"), ca_key.public_key(), root, ca_key, ca=True)

    with sandboxed_provider(key_dir, root_cert=_cert_pem(root), middle_cert=_cert_pem(middle)) as sandbox:
        result = sandbox.provider.query(new_number())

    assert (result.state, result.error_code) == (ResultState.UNKNOWN, "unverified_answer")


def test_unreachable_gateway_is_unknown(key_dir):
    settings = sandbox_provider_settings(key_dir, "http://127.0.0.1:9")
    provider = build_providers({"unionpay": ("payments.unionpay.provider:build", settings)})["unionpay"]

    assert provider.query(new_number()).state is ResultState.UNKNOWN
    assert provider.prepay(prepay_request(new_number())).state is ResultState.UNKNOWN
