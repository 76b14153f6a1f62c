"""Voucher numbers: 20 digits that carry the order number and catch keying slips."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.counter.tests.helpers import ORDER_NO
from payments.counter.voucher_number import (UnsupportedOrderNo, has_valid_check_digits, order_no_for,
                                             voucher_no_for)


def _mod97(number: str) -> int:
    return int(number) % 97


def test_voucher_number_is_20_digits_ending_in_mod_97_10_check_digits():
    voucher_no = voucher_no_for(ORDER_NO)
    assert len(voucher_no) == 20 and voucher_no.isdigit()
    assert _mod97(voucher_no) == 1  # ISO 7064 MOD 97-10: the whole number is 1 modulo 97
    assert has_valid_check_digits(voucher_no)


def test_voucher_number_packs_the_order_time_as_seconds_since_2000():
    voucher_no = voucher_no_for("2000010100000100000007")
    assert voucher_no[:18] == "0000000001" + "00000007"


def test_voucher_number_gives_back_its_order_number():
    assert order_no_for(voucher_no_for(ORDER_NO)) == ORDER_NO


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2299, 12, 31)),
       st.integers(min_value=0, max_value=10**8 - 1))
def test_every_order_number_of_the_core_round_trips(moment, tail):
    order_no = f"{moment:%Y%m%d%H%M%S}{tail:08d}"
    voucher_no = voucher_no_for(order_no)
    assert has_valid_check_digits(voucher_no)
    assert order_no_for(voucher_no) == order_no


def test_one_wrong_digit_anywhere_is_caught():
    voucher_no = voucher_no_for(ORDER_NO)
    for position in range(20):
        for digit in "0123456789":
            if digit != voucher_no[position]:
                typo = voucher_no[:position] + digit + voucher_no[position + 1:]
                assert not has_valid_check_digits(typo), typo


def test_two_neighbouring_digits_swapped_are_caught():
    voucher_no = voucher_no_for("2026112309300090909090")
    for position in range(19):
        a, b = voucher_no[position], voucher_no[position + 1]
        if a != b:
            swapped = voucher_no[:position] + b + a + voucher_no[position + 2:]
            assert not has_valid_check_digits(swapped), swapped


@pytest.mark.parametrize("not_a_voucher", ["", "1234", "0848743200123456789a", voucher_no_for(ORDER_NO) + "0"])
def test_anything_but_20_digits_is_not_a_voucher_number(not_a_voucher):
    assert not has_valid_check_digits(not_a_voucher)
    with pytest.raises(ValueError):
        order_no_for(not_a_voucher)


@pytest.mark.parametrize("order_no", [
    "T2026112309300012345678",    # letters
    "202611230930001234567",      # 21 digits
    "20261123093000123456789",    # 23 digits
    "2026113109300012345678",     # 31 November
    "1999123123595912345678",     # before 2000
    "2400010100000012345678",     # after 2316 the seconds need 11 digits
])
def test_order_numbers_not_shaped_like_the_cores_are_refused(order_no):
    with pytest.raises(UnsupportedOrderNo):
        voucher_no_for(order_no)


def test_the_last_second_that_fits_in_ten_digits_is_accepted():
    last = datetime(2000, 1, 1) + timedelta(seconds=10**10 - 1)
    order_no = f"{last:%Y%m%d%H%M%S}00000000"
    assert order_no_for(voucher_no_for(order_no)) == order_no
    with pytest.raises(UnsupportedOrderNo):
        voucher_no_for(f"{last + timedelta(seconds=1):%Y%m%d%H%M%S}00000000")
