"""A bank's confirmation that a voucher was paid at its counter (or the money sent back).

The bank POSTs JSON to our notify URL::

    {"bank": "ccb", "voucher_no": "...", "order_no": "...", "amount_fen": 12345,
     "bank_serial": "...", "paid_at": "2026-11-23T10:00:00+08:00", "kind": "payment"}

(``kind`` "refund" adds ``refund_no``: our refund number), with the headers ``X-Bank-Code``,
``X-Bank-Timestamp`` (unix seconds) and ``X-Bank-Signature``: the lower-case hex
HMAC-SHA256, keyed with the secret we share with that bank, of the timestamp, a newline and
the body bytes exactly as sent. A confirmation is trusted only when the bank is one we have
a secret for, the signature matches, the timestamp is within five minutes of our clock, the
body names the same bank, the voucher number carries valid check digits and stands for the
named order, and the amount is a positive whole number of fen.

The five minutes bound how long a captured confirmation can be replayed; within them the core
drops a repeat by its ``notification_id`` (bank + bank serial). ``paid_at`` is when the bank
took the money (or, for a refund, sent it back); without an offset it is taken as Asia/Shanghai
time, which is what Chinese banks write.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime
from typing import Mapping
from zoneinfo import ZoneInfo

from payments.base import IncomingNotification, Notification, NotificationRejected, ResultState
from payments.counter.voucher_number import has_valid_check_digits, order_no_for

__all__ = ["MAX_SKEW_SECONDS", "sign_confirmation", "signed_confirmation", "read_confirmation"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_SKEW_SECONDS = 300
BANK_HEADER = "X-Bank-Code"
TIMESTAMP_HEADER = "X-Bank-Timestamp"
SIGNATURE_HEADER = "X-Bank-Signature"

_TIMESTAMP = re.compile(r"[1-9][0-9]{0,11}", re.ASCII)
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)
_KINDS = frozenset({"payment", "refund"})
_MAX_REFERENCE = 64  # bank serials and refund numbers: longer is not a real one


def sign_confirmation(secret: str, body: bytes, timestamp: int) -> str:
    """The X-Bank-Signature of a body sent at ``timestamp``: hex HMAC-SHA256 of f"{timestamp}\\n{body}"."""
    message = f"{int(timestamp)}\n".encode("ascii") + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_confirmation(bank: str, secret: str, body: bytes, timestamp: int) -> IncomingNotification:
    """A confirmation as the bank would send it, headers and all."""
    headers = {
        BANK_HEADER: bank,
        TIMESTAMP_HEADER: str(int(timestamp)),
        SIGNATURE_HEADER: sign_confirmation(secret, body, timestamp),
        "Content-Type": "application/json",
    }
    return IncomingNotification(headers=headers, body=body, content_type="application/json")


def read_confirmation(incoming: IncomingNotification, bank_keys: Mapping[str, str], now: float) -> Notification:
    """Verify a confirmation and decode it; NotificationRejected when any check fails."""
    bank = _header(incoming.headers, BANK_HEADER).strip().lower()
    secret = bank_keys.get(bank)
    if not secret:
        raise NotificationRejected("unknown_bank", f"no secret for bank {bank[:32]!r}")
    timestamp = _header(incoming.headers, TIMESTAMP_HEADER).strip()
    signature = _header(incoming.headers, SIGNATURE_HEADER).strip()
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        raise NotificationRejected("malformed_headers", "timestamp or signature header missing or malformed")
    expected = sign_confirmation(secret, incoming.body, int(timestamp))
    if not hmac.compare_digest(expected, signature.lower()):
        raise NotificationRejected("bad_signature", f"bank {bank}")
    # checked after the signature, so the timestamp compared is one the bank vouched for
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        raise NotificationRejected("stale", f"timestamp {timestamp} is {int(now) - int(timestamp)} s from now")
    fields = _fields(incoming.body)
    if str(fields.get("bank", "")).strip().lower() != bank:
        raise NotificationRejected("bank_mismatch", f"body names {fields.get('bank')!r}, header {bank!r}")
    return _notification(bank, fields)


def _header(headers: Mapping[str, str], name: str) -> str:
    # HTTP header names are case-insensitive; a plain dict from a test or a proxy may not be
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), "")
    return value if isinstance(value, str) else ""


def _fields(body: bytes) -> dict:
    try:
        fields = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise NotificationRejected("malformed", "body is not UTF-8 JSON") from None
    if not isinstance(fields, dict):
        raise NotificationRejected("malformed", "body is not a JSON object")
    return fields


def _notification(bank: str, fields: dict) -> Notification:
    kind = fields.get("kind")
    if kind not in _KINDS:
        raise NotificationRejected("malformed", f"kind {kind!r}")
    voucher_no, order_no = fields.get("voucher_no"), fields.get("order_no")
    if not isinstance(voucher_no, str) or not has_valid_check_digits(voucher_no):
        raise NotificationRejected("bad_voucher_no", f"voucher number {voucher_no!r} fails its check digits")
    if order_no_for(voucher_no) != order_no:
        raise NotificationRejected("voucher_order_mismatch", f"voucher {voucher_no} is not for order {order_no!r}")
    amount_fen = fields.get("amount_fen")
    if type(amount_fen) is not int or amount_fen <= 0:
        raise NotificationRejected("bad_amount", f"amount_fen {amount_fen!r}")
    bank_serial = _reference(fields, "bank_serial")
    paid_at = _moment(fields.get("paid_at"))
    raw = {key: fields[key] for key in sorted(fields)}
    common = dict(order_no=order_no, state=ResultState.SUCCESS, amount_fen=amount_fen, paid_at=paid_at,
                  notification_id=f"{bank}:{bank_serial}", provider_state="BANK_CONFIRMED", raw=raw)
    if kind == "payment":
        return Notification(kind="payment", provider_trade_no=bank_serial, **common)
    return Notification(kind="refund", refund_no=_reference(fields, "refund_no"),
                        provider_refund_no=bank_serial, **common)


def _reference(fields: dict, name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_REFERENCE:
        raise NotificationRejected("malformed", f"{name} {value!r}")
    return value.strip()


def _moment(value: object) -> datetime:
    if not isinstance(value, str):
        raise NotificationRejected("malformed", f"paid_at {value!r}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise NotificationRejected("malformed", f"paid_at {value!r} is not ISO 8601") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
