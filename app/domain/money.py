"""Money: integer fen everywhere; Decimal only for base × rate, rounded once, here."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ONE_FEN = Decimal("1")


def contribution_fen(base_fen: int, rate: Decimal) -> int:
    """base × rate, rounded half-up to the fen — the one place an amount is rounded."""
    if not isinstance(base_fen, int) or isinstance(base_fen, bool):
        raise TypeError("base_fen must be int fen")
    if not isinstance(rate, Decimal):
        raise TypeError("rate must be a Decimal")
    return int((Decimal(base_fen) * rate).quantize(ONE_FEN, rounding=ROUND_HALF_UP))


def percent_of_fen(amount_fen: int, percent: Decimal) -> int:
    """A percentage of an amount (a grade as a share of the average wage), half-up to the fen."""
    return contribution_fen(amount_fen, percent / Decimal(100))


def yuan(fen: int) -> str:
    """Fen as a yuan string with two decimals, for screens and SDK edges: 398000 -> '3980.00'."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole}.{part:02d}"


def fen_from_yuan(text: str) -> int:
    """Parse a yuan string with at most two decimals exactly: '3980.5' -> 398050."""
    value = Decimal(str(text).strip())
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"more than two decimals: {text!r}")
    return int(fen)
