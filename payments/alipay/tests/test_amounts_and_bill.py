"""Yuan/fen conversion and bill reading, without a network."""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from hypothesis import given, strategies as st

from payments.alipay.amounts import fen, yuan
from payments.alipay.bill import BillUnreadable, parse_trade_bill
from payments.sandbox.alipay.bill import BillRow, trade_bill_zip

from .conftest import SHANGHAI


@given(st.integers(min_value=0, max_value=10**13))
def test_fen_survive_the_trip_through_yuan(amount_fen):
    assert fen(yuan(amount_fen)) == amount_fen


@pytest.mark.parametrize("text", ["1", "1.5", "1.005", "1e2", "abc", "", " 1.00", "-1.00", "1.00\n"])
def test_only_yuan_with_two_decimals_are_read(text):
    with pytest.raises(ValueError):
        fen(text)


def test_negative_yuan_are_read_where_signed_amounts_belong():
    assert fen("-25.50", signed=True) == -2550


def test_yuan_refuses_anything_but_int_fen():
    with pytest.raises(TypeError):
        yuan(1.5)


def test_bill_rows_of_other_business_types_are_left_out():
    at = datetime(2026, 10, 3, 10, 0, 30, tzinfo=SHANGHAI)
    rows = [BillRow("2026100322001400000000000001", "A1", "交易", "社保费", at, at, "b***", 3580),
            BillRow("2026100322001400000000000001", "A1", "结算", "社保费", at, at, "b***", 3580)]

    lines = parse_trade_bill(trade_bill_zip(date(2026, 10, 3), "2088100000000001", rows, at))

    assert [(line.kind, line.order_no, line.amount_fen, line.at) for line in lines] == [
        ("payment", "A1", 3580, at)]


def test_a_file_that_is_not_a_bill_zip_is_unreadable():
    with pytest.raises(BillUnreadable):
        parse_trade_bill(b"<html>error</html>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.csv", "a,b\n1,2\n".encode("gbk"))
    with pytest.raises(BillUnreadable):
        parse_trade_bill(buffer.getvalue())
