"""The bank counter behind the payment port: vouchers out, the port's other calls answered honestly."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from payments.base import PaymentProvider, PrepayRequest, RefundRequest, ResultState, StatementUnavailable
from payments.counter.provider import CounterProvider
from payments.counter.tests.helpers import ORDER_NO
from payments.counter.voucher_number import has_valid_check_digits, order_no_for
from payments.registry import build_providers
from tests.timeline import wall_now


def _prepay_request(order_no: str = ORDER_NO, method: str = "voucher", amount_fen: int = 12345) -> PrepayRequest:
    return PrepayRequest(order_no=order_no, amount_fen=amount_fen, description="社保费缴纳", method=method,
                         notify_url="https://sbf.example.cn/notify/counter",
                         expires_at=wall_now() + timedelta(days=3))


def test_registry_builds_it_from_settings_and_it_fits_the_port():
    providers = build_providers({"counter": ("payments.counter.provider:build",
                                             {"bank_keys": {"ccb": "s"}, "voucher_base_url": "https://x/v"})})
    assert isinstance(providers["counter"], PaymentProvider)
    assert providers["counter"].methods == frozenset({"voucher"})


def test_prepay_issues_a_voucher_number_with_valid_check_digits(provider):
    result = provider.prepay(_prepay_request())
    assert result.state == ResultState.WAITING
    assert len(result.provider_ref) == 20 and has_valid_check_digits(result.provider_ref)
    assert order_no_for(result.provider_ref) == ORDER_NO
    assert result.qr_code == result.provider_ref


def test_prepay_points_at_the_voucher_pdf(provider):
    result = provider.prepay(_prepay_request())
    assert result.pay_url == f"https://sbf.example.cn/vouchers/{ORDER_NO}.pdf"


def test_prepay_refuses_any_method_but_voucher(provider):
    result = provider.prepay(_prepay_request(method="qr"))
    assert result.state == ResultState.FAIL
    assert result.error_code == "method_unsupported"


def test_prepay_refuses_an_order_number_a_voucher_cannot_carry(provider):
    result = provider.prepay(_prepay_request(order_no="T0000000000000001"))
    assert result.state == ResultState.FAIL
    assert result.error_code == "order_no_unsupported"


def test_prepay_refuses_a_non_positive_amount(provider):
    result = provider.prepay(_prepay_request(amount_fen=0))
    assert (result.state, result.error_code) == (ResultState.FAIL, "invalid_amount")


def test_query_waits_for_the_bank(provider):
    trade = provider.query(ORDER_NO)
    assert (trade.state, trade.order_no, trade.provider_state) == (ResultState.WAITING, ORDER_NO, "AWAITING_BANK")


def test_close_always_succeeds_since_the_closed_order_voids_the_voucher(provider):
    assert provider.close(ORDER_NO).state == ResultState.SUCCESS


def test_refund_waits_for_a_manual_transfer(provider):
    result = provider.refund(RefundRequest(order_no=ORDER_NO, refund_no="R1", amount_fen=12345, total_fen=12345,
                                           reason="扣款成功但缴费失败"))
    assert (result.state, result.provider_state, result.amount_fen) == (ResultState.WAITING, "MANUAL_TRANSFER", 12345)
    assert provider.query_refund(ORDER_NO, "R1").state == ResultState.WAITING


def test_refund_of_more_than_was_paid_is_refused(provider):
    result = provider.refund(RefundRequest(order_no=ORDER_NO, refund_no="R1", amount_fen=12346, total_fen=12345,
                                           reason="x"))
    assert (result.state, result.error_code) == (ResultState.FAIL, "invalid_amount")


def test_without_a_bank_file_directory_there_is_no_statement_rather_than_an_empty_one(provider):
    with pytest.raises(StatementUnavailable):
        provider.statement(date(2026, 11, 23))


def test_the_statement_is_every_bank_file_of_the_day(tmp_path):
    (tmp_path / "ccb_20261123.csv").write_text(
        "\ufeffvoucher_no,order_no,amount_fen,bank_serial,paid_at,kind,refund_no\n"
        f"V1,{ORDER_NO},12345,CCB1,2026-11-23T09:58:00+08:00,payment,\n"
        f"V1,{ORDER_NO},12345,CCB2,2026-11-23T15:00:00+08:00,refund,R1\n", encoding="utf-8")
    (tmp_path / "icbc_20261123.csv").write_text(
        "voucher_no,order_no,amount_fen,bank_serial,paid_at,kind,refund_no\n", encoding="utf-8")
    (tmp_path / "ccb_20261122.csv").write_text("not read", encoding="utf-8")
    provider = CounterProvider(bank_keys={"ccb": "s"}, voucher_base_url="https://x/v", bank_file_dir=str(tmp_path))
    lines = provider.statement(date(2026, 11, 23))
    assert [(x.kind, x.order_no, x.amount_fen, x.provider_trade_no, x.refund_no) for x in lines] == [
        ("payment", ORDER_NO, 12345, "CCB1", None), ("refund", ORDER_NO, 12345, "CCB2", "R1")]
    with pytest.raises(StatementUnavailable, match="no bank file"):
        provider.statement(date(2026, 11, 24))
    with pytest.raises(StatementUnavailable, match="ccb_20261122.csv"):
        provider.statement(date(2026, 11, 22))


def test_acknowledgements_are_the_json_the_banks_expect(provider):
    ok, retry = provider.acknowledge(True), provider.acknowledge(False)
    assert (ok.status, json.loads(ok.body), ok.content_type) == (200, {"code": "SUCCESS"}, "application/json")
    assert (retry.status, json.loads(retry.body)) == (400, {"code": "FAIL"})


@pytest.mark.parametrize("kwargs", [
    {"bank_keys": {}, "voucher_base_url": "https://x/v"},
    {"bank_keys": {"ccb": ""}, "voucher_base_url": "https://x/v"},
    {"bank_keys": {"ccb": "s"}, "voucher_base_url": ""},
])
def test_settings_without_banks_secrets_or_url_are_refused(kwargs):
    with pytest.raises(ValueError):
        CounterProvider(**kwargs)
