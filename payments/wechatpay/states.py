"""WeChat Pay's words for payment and refund states, and the small readers of its answers.

Shared by the API calls (query, refund) and the notifications, which carry the same resources.
"""
from __future__ import annotations

from datetime import datetime

from payments.base import ResultState

TRADE_STATES = {
    "SUCCESS": ResultState.SUCCESS,
    # REFUND (转入退款): the payment went through and a refund followed; refunds are tracked apart.
    "REFUND": ResultState.SUCCESS,
    "NOTPAY": ResultState.WAITING,
    "USERPAYING": ResultState.WAITING,
    "CLOSED": ResultState.FAIL,
    "REVOKED": ResultState.FAIL,
    "PAYERROR": ResultState.FAIL,
}
REFUND_STATES = {
    "SUCCESS": ResultState.SUCCESS,
    "PROCESSING": ResultState.WAITING,
    "CLOSED": ResultState.FAIL,
    "ABNORMAL": ResultState.FAIL,  # the money could not reach the payer; needs a person
}


def fen_of(section: object, key: str) -> int | None:
    """An integer amount in fen at ``section[key]``, or None (bools and yuan strings are not fen)."""
    value = section.get(key) if isinstance(section, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def moment(text: object) -> datetime | None:
    """WeChat's RFC 3339 times, e.g. 2018-06-08T10:34:56+08:00."""
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) and text else None
    except ValueError:
        return None
