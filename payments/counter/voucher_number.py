"""Voucher numbers (凭证号码): the 20 digits a bank clerk scans, or keys in when the scanner fails.

Our order numbers are 22 digits, ``yyyyMMddHHmmss`` (Asia/Shanghai) followed by 8 random
digits (the ``Numbers`` port). That does not fit in 20 digits with a check digit, so the
voucher number packs the time as the count of seconds since 2000-01-01 00:00 (10 digits,
good until the year 2316) and keeps the 8 random digits: 18 digits from which the order
number can be rebuilt exactly. Two check digits follow, ISO 7064 MOD 97-10 (the IBAN
scheme, computed by python-stdnum): unlike Luhn it catches every single wrong digit *and*
every swap of two neighbouring digits (Luhn misses 09 <-> 90), the typical slips of keying.

    order 20261123100000 12345678  ->  voucher 0848743200 12345678 94
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from stdnum.iso7064 import mod_97_10

__all__ = ["UnsupportedOrderNo", "voucher_no_for", "order_no_for", "has_valid_check_digits"]

_EPOCH = datetime(2000, 1, 1)
_TIME_FORMAT = "%Y%m%d%H%M%S"
_ORDER_NO = re.compile(r"([0-9]{14})([0-9]{8})", re.ASCII)
_VOUCHER_NO = re.compile(r"[0-9]{20}", re.ASCII)
_MAX_SECONDS = 10**10 - 1


class UnsupportedOrderNo(ValueError):
    """The order number is not of the shape a voucher number can carry."""


def voucher_no_for(order_no: str) -> str:
    """The 20-digit voucher number of an order number (time + 8 digits)."""
    match = _ORDER_NO.fullmatch(order_no or "")
    if not match:
        raise UnsupportedOrderNo(f"order number is not yyyyMMddHHmmss + 8 digits: {order_no!r}")
    stamp, tail = match.groups()
    try:
        moment = datetime.strptime(stamp, _TIME_FORMAT)
    except ValueError:
        raise UnsupportedOrderNo(f"order number does not start with a time: {order_no!r}") from None
    # strptime accepts 1-digit fields, so only a round trip proves the 14 digits were a time
    if moment.strftime(_TIME_FORMAT) != stamp or not _EPOCH <= moment:
        raise UnsupportedOrderNo(f"order number does not start with a time after 2000: {order_no!r}")
    seconds = int((moment - _EPOCH).total_seconds())
    if seconds > _MAX_SECONDS:
        raise UnsupportedOrderNo(f"order number too far in the future: {order_no!r}")
    body = f"{seconds:010d}{tail}"
    return body + mod_97_10.calc_check_digits(body)


def has_valid_check_digits(voucher_no: str) -> bool:
    """20 digits whose last two are the MOD 97-10 check digits of the first 18."""
    return bool(_VOUCHER_NO.fullmatch(voucher_no or "")) and mod_97_10.is_valid(voucher_no)


def order_no_for(voucher_no: str) -> str:
    """The order number a valid voucher number stands for; ValueError when it is not valid."""
    if not has_valid_check_digits(voucher_no):
        raise ValueError(f"not a voucher number: {voucher_no!r}")
    moment = _EPOCH + timedelta(seconds=int(voucher_no[:10]))
    return moment.strftime(_TIME_FORMAT) + voucher_no[10:18]
