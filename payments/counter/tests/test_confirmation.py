"""A bank's confirmation is trusted only when every check passes."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

import pytest

from payments.base import IncomingNotification, NotificationRejected, ResultState
from payments.counter.provider import sign_confirmation
from payments.counter.tests.helpers import NOW, ORDER_NO, SECRET, SHANGHAI, bank_sends, confirmation_fields
from payments.counter.voucher_number import voucher_no_for


def _rejected(provider, incoming: IncomingNotification) -> str:
    with pytest.raises(NotificationRejected) as error:
        provider.parse_notification(incoming)
    return error.value.reason


def test_signature_is_hex_hmac_sha256_of_timestamp_newline_body():
    body = b'{"kind":"payment"}'
    expected = hmac.new(SECRET.encode(), b"1795400000\n" + body, hashlib.sha256).hexdigest()
    assert sign_confirmation(SECRET, body, 1795400000) == expected


def test_signed_payment_confirmation_is_a_successful_payment_of_its_fen(provider):
    note = provider.parse_notification(bank_sends(confirmation_fields()))
    assert (note.kind, note.state, note.order_no, note.amount_fen) == ("payment", ResultState.SUCCESS, ORDER_NO, 12345)
    assert note.provider_trade_no == "CCB202611230001"
    assert note.notification_id == "ccb:CCB202611230001"
    assert note.paid_at == datetime(2026, 11, 23, 9, 58, tzinfo=SHANGHAI)


def test_signed_refund_confirmation_names_our_refund(provider):
    fields = confirmation_fields(kind="refund", refund_no="R2026112310000087654321", bank_serial="CCB-RF-9",
                                 amount_fen=5000)
    note = provider.parse_notification(bank_sends(fields))
    assert (note.kind, note.state, note.amount_fen) == ("refund", ResultState.SUCCESS, 5000)
    assert (note.refund_no, note.provider_refund_no) == ("R2026112310000087654321", "CCB-RF-9")
    assert note.notification_id == "ccb:CCB-RF-9"


def test_header_names_are_matched_whatever_their_case(provider):
    incoming = bank_sends(confirmation_fields())
    lowered = IncomingNotification({k.lower(): v for k, v in incoming.headers.items()}, incoming.body)
    assert provider.parse_notification(lowered).amount_fen == 12345


def test_paid_at_without_offset_is_shanghai_time(provider):
    note = provider.parse_notification(bank_sends(confirmation_fields(paid_at="2026-11-23 09:58:00")))
    assert note.paid_at == datetime(2026, 11, 23, 9, 58, tzinfo=SHANGHAI)


def test_timestamps_up_to_five_minutes_either_way_are_fresh(provider):
    for skew in (-300, 300):
        assert provider.parse_notification(bank_sends(confirmation_fields(), timestamp=NOW + skew)).amount_fen


def test_tampered_body_is_rejected(provider):
    incoming = bank_sends(confirmation_fields())
    tampered = incoming.body.replace(b"12345", b"99999")
    assert _rejected(provider, IncomingNotification(incoming.headers, tampered)) == "bad_signature"


def test_wrong_secret_is_rejected(provider):
    assert _rejected(provider, bank_sends(confirmation_fields(), secret="guessed")) == "bad_signature"


def test_another_banks_secret_is_rejected(provider):
    assert _rejected(provider, bank_sends(confirmation_fields(), secret="icbc-shared-secret")) == "bad_signature"


def test_unknown_bank_is_rejected(provider):
    fields = confirmation_fields(bank="abc")
    assert _rejected(provider, bank_sends(fields, bank="abc", secret="whatever")) == "unknown_bank"


def test_missing_bank_header_is_rejected(provider):
    incoming = bank_sends(confirmation_fields())
    headers = {k: v for k, v in incoming.headers.items() if k != "X-Bank-Code"}
    assert _rejected(provider, IncomingNotification(headers, incoming.body)) == "unknown_bank"


def test_body_naming_another_bank_than_the_signer_is_rejected(provider):
    fields = confirmation_fields(bank="icbc")
    assert _rejected(provider, bank_sends(fields)) == "bank_mismatch"


@pytest.mark.parametrize("skew", [-301, 301, -86400])
def test_stale_or_future_timestamp_is_rejected(provider, skew):
    assert _rejected(provider, bank_sends(confirmation_fields(), timestamp=NOW + skew)) == "stale"


@pytest.mark.parametrize("headers", [{"X-Bank-Timestamp": "soon"}, {"X-Bank-Signature": "abc"},
                                     {"X-Bank-Signature": "签名" * 32}])
def test_malformed_timestamp_or_signature_header_is_rejected(provider, headers):
    assert _rejected(provider, bank_sends(confirmation_fields(), headers=headers)) == "malformed_headers"


def test_voucher_of_another_order_is_rejected(provider):
    other = voucher_no_for("2026112309300087654321")
    assert _rejected(provider, bank_sends(confirmation_fields(voucher_no=other))) == "voucher_order_mismatch"


def test_order_number_not_matching_its_voucher_is_rejected(provider):
    fields = confirmation_fields(order_no="2026112309300087654321")
    assert _rejected(provider, bank_sends(fields)) == "voucher_order_mismatch"


def test_voucher_number_with_a_bad_check_digit_is_rejected(provider):
    voucher_no = voucher_no_for(ORDER_NO)
    typo = voucher_no[:-1] + str((int(voucher_no[-1]) + 1) % 10)
    assert _rejected(provider, bank_sends(confirmation_fields(voucher_no=typo))) == "bad_voucher_no"


@pytest.mark.parametrize("amount", [0, -12345, 123.45, "12345", True, None])
def test_amount_that_is_not_positive_whole_fen_is_rejected(provider, amount):
    assert _rejected(provider, bank_sends(confirmation_fields(amount_fen=amount))) == "bad_amount"


@pytest.mark.parametrize("changes", [{"kind": "chargeback"}, {"bank_serial": ""}, {"paid_at": "yesterday"},
                                     {"paid_at": None}, {"kind": "refund"}])
def test_malformed_fields_are_rejected(provider, changes):
    assert _rejected(provider, bank_sends(confirmation_fields(**changes))) == "malformed"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", "{}".encode("utf-16")])
def test_body_that_is_not_a_json_object_is_rejected(provider, body):
    assert _rejected(provider, bank_sends(body)) == "malformed"


def test_raw_keeps_what_the_bank_said(provider):
    note = provider.parse_notification(bank_sends(confirmation_fields()))
    assert note.raw["bank_serial"] == "CCB202611230001" and note.raw["voucher_no"] == voucher_no_for(ORDER_NO)
    assert json.loads(json.dumps(note.raw)) == dict(note.raw)
