"""What the bank counter tests share: a fixed clock, a known order, and a bank that signs."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from payments.base import IncomingNotification
from payments.counter.provider import sign_confirmation
from payments.counter.voucher_number import voucher_no_for

SHANGHAI = timezone(timedelta(hours=8))
NOW = int(datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI).timestamp())
SECRET = "ccb-shared-secret"
# The core numbers orders yyyyMMddHHmmss (Asia/Shanghai) + 8 random digits.
ORDER_NO = "2026112309300012345678"


def confirmation_fields(**changes) -> dict:
    fields = {"bank": "ccb", "voucher_no": voucher_no_for(ORDER_NO), "order_no": ORDER_NO, "amount_fen": 12345,
              "bank_serial": "CCB202611230001", "paid_at": "2026-11-23T09:58:00+08:00", "kind": "payment"}
    fields.update(changes)
    return fields


def bank_sends(fields: dict | bytes, *, bank: str = "ccb", secret: str = SECRET, timestamp: int = NOW,
               headers: dict | None = None) -> IncomingNotification:
    """A confirmation as a bank POSTs it; ``headers`` overrides or adds any header."""
    body = fields if isinstance(fields, bytes) else json.dumps(fields, ensure_ascii=False).encode()
    sent = {"X-Bank-Code": bank, "X-Bank-Timestamp": str(timestamp),
            "X-Bank-Signature": sign_confirmation(secret, body, timestamp)}
    sent.update(headers or {})
    return IncomingNotification(headers=sent, body=body, content_type="application/json")
