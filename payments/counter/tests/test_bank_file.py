"""The bank's daily file: each line a signed confirmation, checked like a live one."""
from __future__ import annotations

import pytest

from payments.base import NotificationRejected, ResultState
from payments.counter.provider import confirmations_from_bank_file
from payments.counter.tests.helpers import NOW, ORDER_NO, SECRET
from payments.counter.voucher_number import voucher_no_for

HEADER = "voucher_no,order_no,amount_fen,bank_serial,paid_at,kind,refund_no"
VOUCHER = voucher_no_for(ORDER_NO)
OTHER_ORDER = "2026112311150000000042"


def _file(*lines: str) -> str:
    return "\r\n".join((HEADER, *lines)) + "\r\n"


def test_each_line_becomes_a_confirmation_that_parses(provider):
    text = _file(f"{VOUCHER},{ORDER_NO},12345,CCB0001,2026-11-23 09:58:00,payment,",
                 f"{voucher_no_for(OTHER_ORDER)},{OTHER_ORDER},500,CCB0002,2026-11-23T11:20:00+08:00,refund,R77")
    notes = [provider.parse_notification(c) for c in confirmations_from_bank_file(text, "ccb", SECRET, NOW)]
    assert [(n.kind, n.order_no, n.amount_fen, n.state) for n in notes] == [
        ("payment", ORDER_NO, 12345, ResultState.SUCCESS), ("refund", OTHER_ORDER, 500, ResultState.SUCCESS)]
    assert notes[0].notification_id == "ccb:CCB0001"  # the same id the live confirmation would carry
    assert notes[1].refund_no == "R77"


def test_byte_order_mark_and_blank_lines_are_tolerated():
    text = "\ufeff" + _file(f"{VOUCHER},{ORDER_NO},12345,CCB0001,2026-11-23 09:58:00,payment,", "", "")
    assert len(confirmations_from_bank_file(text, "ccb", SECRET, NOW)) == 1


def test_lines_are_checked_like_live_confirmations(provider):
    typo = VOUCHER[:-1] + str((int(VOUCHER[-1]) + 1) % 10)
    (incoming,) = confirmations_from_bank_file(_file(f"{typo},{ORDER_NO},12345,CCB0001,2026-11-23,payment,"),
                                               "ccb", SECRET, NOW)
    with pytest.raises(NotificationRejected):
        provider.parse_notification(incoming)


def test_a_file_signed_with_another_banks_secret_does_not_parse(provider):
    (incoming,) = confirmations_from_bank_file(
        _file(f"{VOUCHER},{ORDER_NO},12345,CCB0001,2026-11-23 09:58:00,payment,"), "ccb", "not-ccb", NOW)
    with pytest.raises(NotificationRejected):
        provider.parse_notification(incoming)


@pytest.mark.parametrize(("bad_line", "complaint"), [
    (f"{VOUCHER},{ORDER_NO},12345,CCB0003,2026-11-23 09:58:00,payment", "columns"),
    (f"{VOUCHER},{ORDER_NO},123.45,CCB0003,2026-11-23 09:58:00,payment,", "amount_fen"),
    (f"{VOUCHER},{ORDER_NO},-5,CCB0003,2026-11-23 09:58:00,payment,", "amount_fen"),
    (f"{VOUCHER},{ORDER_NO},12345,,2026-11-23 09:58:00,payment,", "bank_serial"),
    (f"{VOUCHER},{ORDER_NO},12345,CCB0003,2026-11-23 09:58:00,chargeback,", "kind"),
    (f"{VOUCHER},{ORDER_NO},12345,CCB0003,2026-11-23 09:58:00,refund,", "refund_no"),
    (f"{VOUCHER},{ORDER_NO},12345,CCB0003,2026-11-23 09:58:00,payment,R1", "refund_no"),
    (f'{VOUCHER},"{ORDER_NO},12345,CCB0003,2026-11-23 09:58:00,payment,', ""),
])
def test_malformed_line_is_named_by_its_number(bad_line, complaint):
    text = _file(f"{VOUCHER},{ORDER_NO},12345,CCB0001,2026-11-23 09:58:00,payment,",
                 f"{VOUCHER},{ORDER_NO},12345,CCB0002,2026-11-23 09:58:00,payment,", bad_line)
    with pytest.raises(ValueError, match=f"^line 4: .*{complaint}"):
        confirmations_from_bank_file(text, "ccb", SECRET, NOW)


@pytest.mark.parametrize("text", ["", "voucher_no,order_no,amount_fen\n", "订单号,金额\n1,2\n"])
def test_file_without_the_header_is_refused_at_line_1(text):
    with pytest.raises(ValueError, match="^line 1: "):
        confirmations_from_bank_file(text, "ccb", SECRET, NOW)
