"""Provider and network trouble: calls answer UNKNOWN (never FAIL, never an exception), and the
sandbox refuses requests it cannot verify, as WeChat Pay does."""
from __future__ import annotations

from datetime import date

import pytest

from payments.base import RefundRequest, ResultState
from payments.sandbox.common import ensure_rsa_key, public_pem
from payments.wechatpay.provider import StatementUnavailable
from payments.wechatpay.testing import sandboxed_provider
from payments.wechatpay.tests.helpers import new_order_no, prepay_request


def test_api_5xx_makes_prepay_query_close_and_refund_unknown(sandbox):
    order_no = new_order_no()
    sandbox.provider.prepay(prepay_request(order_no))
    sandbox.client.pay(order_no)
    sandbox.client.set_faults(api_5xx=True)

    results = [sandbox.provider.prepay(prepay_request(new_order_no())),
               sandbox.provider.query(order_no),
               sandbox.provider.close(order_no),
               sandbox.provider.refund(RefundRequest(order_no, "R" + order_no, 100, 12345, "退费")),
               sandbox.provider.query_refund(order_no, "R" + order_no)]

    assert [r.state for r in results] == [ResultState.UNKNOWN] * len(results)
    assert results[0].error_code == "system_error"


def test_api_delay_beyond_the_timeout_makes_prepay_and_query_unknown(key_dir):
    with sandboxed_provider(key_dir, timeout_seconds=0.2) as sandbox:
        order_no = new_order_no()
        sandbox.provider.prepay(prepay_request(order_no))
        sandbox.client.set_faults(api_delay_seconds=0.6)

        prepaid = sandbox.provider.prepay(prepay_request(new_order_no()))
        queried = sandbox.provider.query(order_no)

    assert (prepaid.state, prepaid.error_code) == (ResultState.UNKNOWN, "timeout")
    assert (queried.state, queried.error_code) == (ResultState.UNKNOWN, "timeout")


def test_a_request_signed_with_a_wrong_merchant_key_is_refused_by_the_sandbox(key_dir, tmp_path):
    stranger_key = tmp_path / "stranger.pem"
    ensure_rsa_key(stranger_key)
    with sandboxed_provider(key_dir, private_key_file=str(stranger_key)) as sandbox:
        prepaid = sandbox.provider.prepay(prepay_request(new_order_no()))
        queried = sandbox.provider.query(new_order_no())

    assert (prepaid.state, prepaid.error_code) == (ResultState.FAIL, "sign_error")
    # A refused query says nothing about the payment: it stays to be asked again.
    assert (queried.state, queried.error_code) == (ResultState.UNKNOWN, "sign_error")


def test_an_answer_not_signed_by_the_platform_key_we_hold_is_not_believed(key_dir, tmp_path):
    impostor = public_pem(ensure_rsa_key(tmp_path / "impostor.pem")).decode()
    with sandboxed_provider(key_dir, platform_public_key_file=None,
                            platform_public_key=impostor) as sandbox:
        order_no = new_order_no()
        prepaid = sandbox.provider.prepay(prepay_request(order_no))
        queried = sandbox.provider.query(order_no)

    assert (prepaid.state, prepaid.error_code) == (ResultState.UNKNOWN, "sdk_error")
    assert queried.state is ResultState.UNKNOWN


def test_a_statement_wechat_cannot_give_raises_rather_than_answering_empty(sandbox):
    sandbox.client.set_faults(api_5xx=True)

    with pytest.raises(StatementUnavailable):
        sandbox.provider.statement(date(2024, 1, 1))


def test_an_unreachable_gateway_makes_query_unknown(key_dir):
    with sandboxed_provider(key_dir, gateway_url="http://127.0.0.1:9") as sandbox:
        result = sandbox.provider.query(new_order_no())

    assert (result.state, result.error_code) == (ResultState.UNKNOWN, "network_error")
