"""建行支付 against its sandbox bank over HTTP: the bank's two-step card page, signed notifications checked
in order, answers we cannot trust read as UNKNOWN, refunds and the statement."""
from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import requests
from flask import Flask, request

from payments.base import IncomingNotification, NotificationRejected, PrepayRequest, RefundRequest, ResultState
from payments.ccb import signing
from payments.ccb.testing import sandboxed_provider
from payments.sandbox.common import ServedApp, ensure_rsa_key
from tests.timeline import wall_now


@pytest.fixture
def receiver():
    """Our notify URL: answers 500 to the first delivery (the bank must retry), then 200."""
    app, got = Flask("receiver"), []

    @app.post("/notify")
    def notify():
        got.append(request.get_data())
        return ("FAIL", 500) if len(got) == 1 else ("SUCCESS", 200)

    with ServedApp(app) as served:
        yield served.url + "/notify", got


@pytest.fixture
def ccb(tmp_path):
    with sandboxed_provider(tmp_path, time_scale=0.001) as setup:
        yield setup


def open_order(setup, notify_url="http://127.0.0.1:9/notify", amount_fen=18000):
    now = wall_now()
    order_no = f"{now:%Y%m%d%H%M%S}{now.microsecond:08d}"
    result = setup.provider.prepay(PrepayRequest(order_no, amount_fen, "社保费缴费-城乡居民养老", "card", notify_url,
                                                 now + timedelta(minutes=30), return_url="http://127.0.0.1:9/back"))
    assert result.state == ResultState.WAITING, result
    return order_no, result.pay_url


def wait_for(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def test_the_payer_gives_card_and_id_digits_then_name_and_password_on_the_banks_page(ccb, receiver):
    url, got = receiver
    order_no, pay_url = open_order(ccb, url)
    page = requests.post(pay_url, data={"step": "card", "card_no": "6217 0028 7000 0000 001", "id_last4": "9999"})
    assert "证件号码后四位与开户信息不符" in page.text
    assert "非建行卡" in requests.post(pay_url, data={"step": "card", "card_no": "6222000000000000",
                                                    "id_last4": "0626"}).text
    page = requests.post(pay_url, data={"step": "card", "card_no": "6217002870000000001", "id_last4": "0626"})
    assert "取现密码" in page.text and "6217 **** 0001" in page.text
    assert "取现密码错误" in requests.post(pay_url, data={"step": "password", "account_name": "卓玛",
                                                       "password": "000000"}).text
    assert ccb.provider.query(order_no).state == ResultState.WAITING
    done = requests.post(pay_url, data={"step": "password", "account_name": "卓玛", "password": "111111"})
    assert "支付成功" in done.text
    assert wait_for(lambda: len(got) >= 2)  # refused once, delivered again
    note = ccb.provider.parse_notification(IncomingNotification({}, got[-1], "application/x-www-form-urlencoded"))
    assert (note.kind, note.order_no, note.amount_fen, note.state) == ("payment", order_no, 18000, ResultState.SUCCESS)
    assert ccb.provider.query(order_no).provider_trade_no == note.provider_trade_no


def _signed_notification(key_pem: bytes, **change) -> IncomingNotification:
    fields = {"POSID": "000000001", "BRANCHID": "540000000", "ORDERID": "20261123100000000001", "PAYMENT": "180.00",
              "CURCODE": "01", "ACC_TYPE": "12", "SUCCESS": "Y", "TRADE_NO": "CCB1", **change}
    return IncomingNotification({}, urlencode(signing.sign(fields, key_pem)).encode(),
                                "application/x-www-form-urlencoded")


def test_a_notification_is_checked_signature_first_then_merchant_then_currency(ccb, tmp_path):
    bank_key = ensure_rsa_key(tmp_path / "bank_private.pem")
    assert ccb.provider.parse_notification(_signed_notification(bank_key)).amount_fen == 18000
    forged = ensure_rsa_key(tmp_path / "forger.pem")
    for notification, reason in ((_signed_notification(forged), "bad_signature"),
                                 (_signed_notification(bank_key, POSID="999"), "merchant_mismatch"),
                                 (_signed_notification(bank_key, CURCODE="14"), "currency_mismatch"),
                                 (_signed_notification(bank_key, PAYMENT="1.5x"), "malformed")):
        with pytest.raises(NotificationRejected) as refused:
            ccb.provider.parse_notification(notification)
        assert refused.value.reason == reason
    tampered = _signed_notification(bank_key).body.replace(b"180.00", b"1.00")
    with pytest.raises(NotificationRejected):
        ccb.provider.parse_notification(IncomingNotification({}, tampered, ""))


def test_trouble_at_the_bank_is_unknown_never_a_failure(ccb):
    order_no, _ = open_order(ccb)
    ccb.client.set_faults(api_5xx=True)
    assert ccb.provider.query(order_no).state == ResultState.UNKNOWN
    assert ccb.provider.close(order_no).state == ResultState.UNKNOWN
    ccb.client.set_faults(api_5xx=False)
    assert ccb.provider.query(order_no).state == ResultState.WAITING


def test_a_request_signed_with_another_key_is_refused_by_the_bank(tmp_path):
    with sandboxed_provider(tmp_path, merchant_key=ensure_rsa_key(tmp_path / "other.pem").decode()) as setup:
        result = setup.provider.prepay(PrepayRequest("20261123100000000009", 100, "x", "card", "http://127.0.0.1:9/n",
                                                     wall_now() + timedelta(minutes=5)))
        assert result.state == ResultState.FAIL and result.error_code == "SIGN_ERROR"


def test_refunds_are_limited_to_what_was_paid(ccb):
    order_no, _ = open_order(ccb)
    refund = RefundRequest(order_no, "R1", 18000, 18000, "扣款成功但缴费失败")
    assert ccb.provider.refund(refund).state == ResultState.FAIL  # not paid yet
    ccb.client.pay(order_no)
    assert ccb.provider.refund(refund).state == ResultState.SUCCESS
    assert ccb.provider.refund(refund).state == ResultState.SUCCESS  # the same refund number again: the same refund
    more = ccb.provider.refund(RefundRequest(order_no, "R2", 1, 18000, "多缴"))
    assert more.state == ResultState.FAIL and more.error_code == "AMOUNT_EXCEEDED"
    day = wall_now().date()
    kinds = sorted((line.kind, line.amount_fen) for line in ccb.provider.statement(day) if line.order_no == order_no)
    assert kinds == [("payment", 18000), ("refund", 18000)]
