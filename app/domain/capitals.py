"""Amounts in Chinese financial capitals (中文大写金额), as printed on vouchers and certificates.

Follows the People's Bank of China rules for filling in bills (《正确填写票据和结算凭证的基本规定》):
the capital digits 零壹贰叁肆伍陆柒捌玖 and units 拾佰仟万亿; one 零 however many zeros in a
row it stands for; 整 after 元 when there are no 角 or 分, nothing after 角 (the rules allow
either) or 分; 零 after 元 whenever 角 is 0 and 分 is not (壹元零伍分), and also when the 元
digit is 0 and 角 is not (壹仟元零壹角), which the rules allow but do not require. A 0 in the
万 place before a non-zero 仟 gets no 零 (壹拾万柒仟元), the rules' first form. 拾 always
carries its digit (壹拾万, never 拾万).

Written by hand: the rules fit in a page and no library the project depends on implements them.
"""
from __future__ import annotations

__all__ = ["fen_to_chinese_capitals", "MAX_FEN"]

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_WAN = 10**4
_YI = 10**8
# 亿亿 (10^16 元) is not a unit anybody prints; no fee comes near it.
MAX_FEN = 10**18 - 1


def fen_to_chinese_capitals(fen: int) -> str:
    """An amount in fen in financial capitals: 123456 -> 壹仟贰佰叁拾肆元伍角陆分, 0 -> 零元整."""
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise TypeError("fen must be int fen")
    if fen < 0:
        raise ValueError(f"negative amounts have no capital form: {fen}")
    if fen > MAX_FEN:
        raise ValueError(f"amount too large for capitals: {fen}")
    yuan, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    if fen == 0:
        return "零元整"

    text = _integer(yuan) + "元" if yuan else ""
    if jiao:
        # the 元 digit is 0 (壹仟元零壹角); with no 元 at all there is nothing to bridge
        if yuan and yuan % 10 == 0:
            text += "零"
        text += _DIGITS[jiao] + "角"
    elif fen_digit and yuan:
        text += "零"
    if fen_digit:
        text += _DIGITS[fen_digit] + "分"
    elif not jiao:
        text += "整"
    return text


def _integer(n: int) -> str:
    """1 <= n < 10^16 in capitals, without 元."""
    if n < _WAN:
        return _section(n)
    if n < _YI:
        high, low = divmod(n, _WAN)
        text = _section(high) + "万"
        if low:
            text += ("零" if low < 1000 else "") + _section(low)
        return text
    # the part above 亿 may itself have 万 in it: 壹万零壹亿 is 1,0001,0000,0000
    high, low = divmod(n, _YI)
    text = _integer(high) + "亿"
    if low:
        text += ("零" if low < 10**7 else "") + _integer(low)
    return text


def _section(n: int) -> str:
    """1 <= n < 10^4: leading zeros dropped, inner zeros as one 零, trailing zeros dropped."""
    text = ""
    pending_zero = False
    for power in (3, 2, 1, 0):
        digit = n // 10**power % 10
        if digit == 0:
            pending_zero = bool(text)
            continue
        if pending_zero:
            text += "零"
            pending_zero = False
        text += _DIGITS[digit] + _SMALL_UNITS[power]
    return text
