"""Prepay, query and close against the sandbox gateway, over HTTP, with the real SDK."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests

from payments.alipay.provider import build
from payments.base import ResultState
from payments.sandbox.alipay import sandbox_provider_settings
from payments.sandbox.common import ensure_rsa_key, public_pem

from .conftest import new_order_no, prepay_request


def test_qr_prepay_answers_waiting_with_a_qr_code_leading_to_the_cashier(provider):
    result = provider.prepay(prepay_request(new_order_no(), 12345, "qr"))

    assert result.state is ResultState.WAITING
    page = requests.get(result.qr_code, timeout=5)
    assert "确认支付" in page.text and "¥123.45" in page.text


def test_wap_prepay_answers_waiting_with_a_signed_pay_url_on_the_gateway(provider, sandbox):
    result = provider.prepay(prepay_request(new_order_no(), 100, "wap", return_url="http://example.com/back"))

    assert result.state is ResultState.WAITING
    assert result.pay_url.startswith(f"{sandbox.url}/gateway.do?")
    assert "sign=" in result.pay_url and "method=alipay.trade.wap.pay" in result.pay_url
    page = requests.get(result.pay_url, timeout=5)
    assert "确认支付" in page.text and "¥1.00" in page.text


def test_query_waits_before_the_payer_pays_and_succeeds_after(provider, sandbox):
    order_no = new_order_no()
    provider.prepay(prepay_request(order_no, 398000, "qr"))

    before = provider.query(order_no)
    sandbox.client.pay(order_no)
    after = provider.query(order_no)

    assert before.state is ResultState.WAITING and before.provider_state == "TRADE_NOT_EXIST"
    assert after.state is ResultState.SUCCESS
    assert after.amount_fen == 398000
    assert re.fullmatch(r"\d{28}", after.provider_trade_no)
    assert after.paid_at is not None and after.paid_at.tzinfo is not None


def test_payer_confirming_on_the_wap_cashier_page_pays_and_shows_the_way_back(provider):
    order_no = new_order_no()
    result = provider.prepay(prepay_request(order_no, 5000, "wap", return_url="http://example.com/back"))
    page = requests.get(result.pay_url, timeout=5)
    opened = provider.query(order_no)

    pay_action = re.search(r'action="([^"]+/pay)"', page.text).group(1)
    done = requests.post(urlsplit(result.pay_url)._replace(path=pay_action, query="").geturl(), timeout=5)

    assert opened.state is ResultState.WAITING and opened.provider_state == "WAIT_BUYER_PAY"
    assert "支付成功" in done.text and "http://example.com/back?" in done.text
    assert provider.query(order_no).state is ResultState.SUCCESS


def test_payer_cancelling_closes_the_trade_and_query_says_fail(provider, sandbox):
    order_no = new_order_no()
    provider.prepay(prepay_request(order_no, 5000, "qr"))

    sandbox.client.cancel(order_no)

    trade = provider.query(order_no)
    assert trade.state is ResultState.FAIL and trade.provider_state == "TRADE_CLOSED"


def test_prepay_with_a_method_alipay_does_not_offer_fails(provider):
    result = provider.prepay(prepay_request(new_order_no(), 100, "jsapi"))

    assert result.state is ResultState.FAIL and result.error_code == "unsupported_method"


def test_close_of_an_order_the_payer_never_opened_succeeds(provider):
    order_no = new_order_no()
    provider.prepay(prepay_request(order_no, 100, "qr"))

    assert provider.close(order_no).state is ResultState.SUCCESS


def test_close_of_an_opened_unpaid_order_succeeds_and_it_can_no_longer_be_paid(provider, sandbox):
    order_no = new_order_no()
    requests.get(provider.prepay(prepay_request(order_no, 100, "qr")).qr_code, timeout=5)

    closed = provider.close(order_no)

    assert closed.state is ResultState.SUCCESS
    assert provider.query(order_no).state is ResultState.FAIL
    with pytest.raises(requests.HTTPError):
        sandbox.client.pay(order_no)


def test_close_of_a_paid_order_fails_with_order_paid(provider, sandbox):
    order_no = new_order_no()
    provider.prepay(prepay_request(order_no, 100, "qr"))
    sandbox.client.pay(order_no)

    closed = provider.close(order_no)

    assert closed.state is ResultState.FAIL and closed.error_code == "order_paid"


def test_api_5xx_makes_query_and_prepay_unknown(provider, sandbox):
    order_no = new_order_no()
    sandbox.client.set_faults(api_5xx=True)

    query = provider.query(order_no)
    assert query.state is ResultState.UNKNOWN and query.error_code == "http_500"
    assert provider.prepay(prepay_request(order_no, 100, "qr")).state is ResultState.UNKNOWN
    assert provider.close(order_no).state is ResultState.UNKNOWN


def test_a_gateway_slower_than_our_timeout_makes_query_and_prepay_unknown(sandbox, key_dir):
    impatient = build(**{**sandbox_provider_settings(key_dir, sandbox.url), "timeout_seconds": 0.3})
    sandbox.client.set_faults(api_delay_seconds=1.0)
    order_no = new_order_no()

    query = impatient.query(order_no)
    prepay = impatient.prepay(prepay_request(order_no, 100, "qr"))

    assert query.state is ResultState.UNKNOWN and query.error_code == "timeout"
    assert prepay.state is ResultState.UNKNOWN


def test_a_request_signed_with_a_wrong_merchant_key_is_refused_by_the_sandbox(sandbox, key_dir, stranger_pem):
    impostor = build(**{**sandbox_provider_settings(key_dir, sandbox.url), "app_private_key": stranger_pem})
    order_no = new_order_no()

    prepay = impostor.prepay(prepay_request(order_no, 100, "qr"))
    query = impostor.query(order_no)

    assert prepay.state is ResultState.UNKNOWN and prepay.error_code == "isv.invalid-signature"
    assert query.state is ResultState.UNKNOWN and query.error_code == "isv.invalid-signature"
    with pytest.raises(requests.HTTPError):
        sandbox.client.pay(order_no)  # no trade was made


def test_a_pay_url_whose_amount_was_changed_is_refused_by_the_sandbox(provider, sandbox):
    order_no = new_order_no()
    pay_url = provider.prepay(prepay_request(order_no, 10000, "wap")).pay_url
    base, _, query = pay_url.partition("?")
    params = dict(parse_qsl(query))
    params["biz_content"] = params["biz_content"].replace('"100.00"', '"0.01"')

    page = requests.get(f"{base}?{urlencode(params)}", timeout=5)

    assert "isv.invalid-signature" in page.text and "确认支付" not in page.text
    with pytest.raises(requests.HTTPError):
        sandbox.client.pay(order_no)


def test_an_answer_whose_signature_does_not_verify_is_unknown(sandbox, key_dir, stranger_pem):
    misconfigured = build(**{**sandbox_provider_settings(key_dir, sandbox.url),
                             "alipay_public_key": public_pem(stranger_pem.encode()).decode()})

    trade = misconfigured.query(new_order_no())

    assert trade.state is ResultState.UNKNOWN and trade.error_code == "answer_signature_invalid"


def test_build_refuses_our_own_public_key_in_place_of_alipays(sandbox, key_dir):
    own_public = public_pem(ensure_rsa_key(key_dir / "alipay_merchant_private.pem")).decode()
    with pytest.raises(ValueError, match="own application public key"):
        build(**{**sandbox_provider_settings(key_dir, sandbox.url), "alipay_public_key": own_public})


def test_build_refuses_a_key_without_its_pem_header(sandbox, key_dir, stranger_pem):
    bare = "".join(line for line in stranger_pem.splitlines() if not line.startswith("-----"))
    with pytest.raises(ValueError, match="PEM"):
        build(**{**sandbox_provider_settings(key_dir, sandbox.url), "app_private_key": bare})
