"""Reading WeChat Pay's trade bill format, without a network."""
from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, strategies as st

from payments.sandbox.wechatpay.bill import trade_bill, yuan
from payments.sandbox.wechatpay.ledger import SHANGHAI, Order, Refund
from payments.wechatpay.bill import BillFormatError, parse_trade_bill, yuan_to_fen


def _order(**changes) -> Order:
    values = dict(out_trade_no="T0001", appid="wx1", mchid="1900000109", description="社保费，2024年1月",
                  total=123456, trade_type="NATIVE", notify_url="http://x/n", prepay_id="wx1",
                  created_at=datetime(2024, 1, 2, 9, 0, tzinfo=SHANGHAI), trade_state="SUCCESS",
                  transaction_id="4200000001", success_time=datetime(2024, 1, 2, 9, 1, tzinfo=SHANGHAI))
    values.update(changes)
    return Order(**values)


@given(st.integers(min_value=0, max_value=10**13))
def test_fen_survive_the_trip_through_yuan_text(fen):
    assert yuan_to_fen(yuan(fen)) == fen


@pytest.mark.parametrize("text", ["0.001", "abc", ""])
def test_amounts_finer_than_a_fen_or_not_numbers_are_refused(text):
    with pytest.raises(BillFormatError):
        yuan_to_fen(text)


def test_a_bill_with_commas_in_the_product_name_is_read_field_by_field():
    order = _order()
    refund = Refund(out_refund_no="R0001", refund_id="5000001", out_trade_no="T0001",
                    transaction_id="4200000001", refund=56, total=123456, reason=None, notify_url=None,
                    create_time=datetime(2024, 1, 2, 10, 0, tzinfo=SHANGHAI))

    lines = parse_trade_bill(trade_bill([order], [(refund, order)]))

    assert [(l.kind, l.order_no, l.amount_fen, l.refund_no) for l in lines] == [
        ("payment", "T0001", 123456, None), ("refund", "T0001", 56, "R0001")]
    assert lines[0].at == datetime(2024, 1, 2, 9, 1, tzinfo=SHANGHAI)


def test_a_bill_without_the_expected_columns_is_refused():
    with pytest.raises(BillFormatError):
        parse_trade_bill("交易时间,商户号\r\n`2024-01-02 09:01:00,`1900000109\r\n")
