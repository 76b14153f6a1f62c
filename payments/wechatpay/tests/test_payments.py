"""Prepay, query and close against the sandbox gateway over real HTTP, with the real SDK."""
from __future__ import annotations

import base64
from dataclasses import replace

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from payments.base import PaymentProvider, ResultState
from payments.registry import build_providers
from payments.sandbox.wechatpay import sandbox_provider_settings
from payments.wechatpay.tests.helpers import new_order_no, prepay_request


def test_native_prepay_answers_waiting_with_a_qr_code_that_opens_the_cashier(provider):
    result = provider.prepay(prepay_request(new_order_no(), method="native"))

    assert result.state is ResultState.WAITING
    page = requests.get(result.qr_code, timeout=5)
    assert page.status_code == 200
    assert "确认支付" in page.text and "取消" in page.text and "123.45" in page.text


def test_jsapi_prepay_answers_waiting_with_choose_wx_pay_parameters_signed_by_the_merchant(provider, keys):
    result = provider.prepay(prepay_request(new_order_no(), method="jsapi"))

    assert result.state is ResultState.WAITING
    params = result.app_params
    assert params["appId"] == keys.appid
    assert params["package"] == f"prepay_id={result.provider_ref}"
    assert params["signType"] == "RSA"
    message = "\n".join([params["appId"], params["timeStamp"], params["nonceStr"], params["package"]]) + "\n"
    serialization.load_pem_public_key(keys.merchant_public_pem).verify(
        base64.b64decode(params["paySign"]), message.encode(), padding.PKCS1v15(), hashes.SHA256())
    assert requests.get(result.pay_url, timeout=5).status_code == 200


def test_jsapi_prepay_without_an_openid_fails_before_asking_wechat(provider):
    result = provider.prepay(replace(prepay_request(new_order_no(), method="jsapi"), payer_ref=None))

    assert result.state is ResultState.FAIL
    assert result.error_code == "payer_required"


def test_a_method_wechat_does_not_offer_fails(provider):
    result = provider.prepay(prepay_request(new_order_no(), method="wap"))

    assert result.state is ResultState.FAIL
    assert result.error_code == "unsupported_method"


def test_query_answers_waiting_before_paying_and_success_with_amount_and_trade_no_after(sandbox):
    order_no = new_order_no()
    sandbox.provider.prepay(prepay_request(order_no, amount_fen=5000))

    before = sandbox.provider.query(order_no)
    paid = sandbox.client.pay(order_no)
    after = sandbox.provider.query(order_no)

    assert (before.state, before.provider_state) == (ResultState.WAITING, "NOTPAY")
    assert before.provider_trade_no is None
    assert after.state is ResultState.SUCCESS
    assert after.amount_fen == 5000
    assert after.provider_trade_no == paid["transaction_id"]
    assert after.paid_at is not None and after.paid_at.utcoffset() is not None


def test_payer_confirming_on_the_cashier_page_pays_the_order(provider):
    order_no = new_order_no()
    result = provider.prepay(prepay_request(order_no, method="native"))

    answer = requests.post(result.qr_code + "/confirm", timeout=5)

    assert answer.status_code == 200 and "支付成功" in answer.text
    assert provider.query(order_no).state is ResultState.SUCCESS


def test_payer_cancelling_leaves_the_order_waiting_as_wechat_does(sandbox):
    order_no = new_order_no()
    sandbox.provider.prepay(prepay_request(order_no))

    sandbox.client.cancel(order_no)

    assert sandbox.provider.query(order_no).state is ResultState.WAITING


def test_query_of_an_order_wechat_does_not_know_fails_with_order_not_exist(provider):
    result = provider.query(new_order_no())

    assert result.state is ResultState.FAIL
    assert result.error_code == "order_not_exist"


def test_asking_again_for_the_same_order_gets_the_same_prepay_id(provider):
    order_no = new_order_no()
    first = provider.prepay(prepay_request(order_no, method="jsapi"))
    second = provider.prepay(prepay_request(order_no, method="jsapi"))

    assert first.provider_ref == second.provider_ref


def test_closing_an_unpaid_order_succeeds_and_it_can_no_longer_be_paid(sandbox):
    order_no = new_order_no()
    sandbox.provider.prepay(prepay_request(order_no))

    closed = sandbox.provider.close(order_no)

    assert closed.state is ResultState.SUCCESS
    assert sandbox.provider.query(order_no).state is ResultState.FAIL
    with pytest.raises(requests.HTTPError):
        sandbox.client.pay(order_no)


def test_closing_a_paid_order_fails_with_order_paid(sandbox):
    order_no = new_order_no()
    sandbox.provider.prepay(prepay_request(order_no))
    sandbox.client.pay(order_no)

    closed = sandbox.provider.close(order_no)

    assert closed.state is ResultState.FAIL
    assert closed.error_code == "order_paid"


def test_closing_an_order_never_opened_succeeds(provider):
    assert provider.close(new_order_no()).state is ResultState.SUCCESS


def test_the_registry_builds_the_provider_from_plain_settings(key_dir, sandbox):
    settings = sandbox_provider_settings(key_dir, sandbox.url)

    providers = build_providers({"wechatpay": ("payments.wechatpay.provider:build", settings)})

    assert isinstance(providers["wechatpay"], PaymentProvider)
    assert providers["wechatpay"].methods == frozenset({"jsapi", "native"})
    assert providers["wechatpay"].query(new_order_no()).state is ResultState.FAIL
