"""Yuan strings at the Alipay edge, integer fen everywhere else, converted exactly.

Alipay writes amounts as yuan with two decimals ("100.00"); anything else in a message from
Alipay is refused rather than guessed at, so a shifted decimal point can never pass.
"""
from __future__ import annotations

import re
from decimal import Decimal

_TWO_DECIMALS = re.compile(r"(-?)(\d{1,12})\.(\d{2})")


def yuan(fen: int) -> str:
    """Fen as Alipay's yuan string: 10000 -> "100.00"."""
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise TypeError("amounts are int fen")
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole}.{part:02d}"


def fen(text: str, *, signed: bool = False) -> int:
    """Alipay's yuan string as fen; exactly two decimals, negative only when ``signed``."""
    match = _TWO_DECIMALS.fullmatch(text or "")
    if not match or (match.group(1) and not signed):
        raise ValueError(f"not a yuan amount with two decimals: {text!r}")
    return int(Decimal(text) * 100)
