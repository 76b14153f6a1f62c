"""Reading WeChat Pay's daily trade bill (交易账单, type ALL) into statement lines.

The bill is CSV-like text, hand-parsed here because no library knows its quirks: a UTF-8 BOM,
a header row, detail rows whose every field starts with a backtick (so Excel keeps long
numbers), then a summary header (总交易单数,...) and one summary row. Fields are not quoted,
so detail rows are split on ",`" which survives commas inside a product name. Columns are
found by header name, as WeChat says their order may change. Amounts are yuan strings.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Iterable, Iterator

from payments.base import StatementLine

log = logging.getLogger(__name__)

# China has had no daylight saving since 1991, so a fixed +08:00 is exact for bill times.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

SUMMARY_HEADER_START = "总交易单数"


class BillFormatError(ValueError):
    """The bill text does not have the layout WeChat documents."""


def yuan_to_fen(text: str) -> int:
    """Exact conversion of a yuan string ("12.30") to integer fen; refuses fractions of a fen."""
    whole, dot, part = text.strip().partition(".")
    if whole.isdigit() and whole.isascii() and len(part) <= 2 and (not part or part.isdigit() and part.isascii()):
        return int(whole) * 100 + int(part.ljust(2, "0"))  # the bill's plain form, without Decimal's cost
    try:
        fen = Decimal(text.strip()) * 100
    except InvalidOperation as exc:
        raise BillFormatError(f"not an amount: {text!r}") from exc
    if fen != fen.to_integral_value():
        raise BillFormatError(f"amount finer than a fen: {text!r}")
    return int(fen)


def parse_trade_bill(text: str) -> list[StatementLine]:
    """Turn an ALL trade bill into payment and refund lines (other states are skipped)."""
    return list(iter_trade_bill(text.lstrip("\ufeff").splitlines()))


def iter_trade_bill(lines: Iterable[str]) -> Iterator[StatementLine]:
    """The same, one line at a time: a bill of a million rows read from a file is never held whole."""
    rows = iter(lines)
    header = None
    for first in rows:
        if first.strip().lstrip("\ufeff"):
            header = [name.strip() for name in first.lstrip("\ufeff").rstrip("\r\n").split(",")]
            break
    if header is None:
        raise BillFormatError("empty bill")
    try:
        column = {name: header.index(name) for name in
                  ("交易时间", "微信订单号", "商户订单号", "交易状态", "应结订单金额",
                   "微信退款单号", "商户退款单号", "退款金额")}
    except ValueError as exc:
        raise BillFormatError(f"bill header lacks a column: {exc}") from exc

    at_, trade_no_, order_no_, state_, amount_, _, refund_no_, refund_fen_ = column.values()
    width, last = len(header), max(column.values()) + 1
    # the loop below runs a million times for a big day: locals, no helper call on the plain path
    fromisoformat, payment, refund = datetime.fromisoformat, "payment", "refund"
    for raw in rows:
        line = raw.rstrip("\r\n")
        if not line or line.isspace():
            continue
        if line.startswith(SUMMARY_HEADER_START):
            break
        if line[0] != "`":
            raise BillFormatError("detail row without the backtick prefix")
        if line.count(",`") + 1 < width:
            raise BillFormatError(f"detail row has {line.count(',`') + 1} fields, header has {width}")
        fields = line[1:].split(",`", last)  # the columns after the last one read stay one string
        state = fields[state_].strip()
        if state == "SUCCESS":
            kind, amount, refund_no = payment, fields[amount_], None
        elif state == "REFUND":
            kind, amount, refund_no = refund, fields[refund_fen_], fields[refund_no_].strip() or None
        else:
            # REVOKED only happens for payment-code (付款码) orders, which we do not take.
            log.warning("wechatpay bill: skipped a row in state %s", state)
            continue
        try:
            at = fromisoformat(fields[at_].strip() + "+08:00")
        except ValueError as exc:
            raise BillFormatError(f"not a time: {fields[at_]!r}") from exc
        # the bill's plain amount "123.45" without a call; anything else through yuan_to_fen
        digits = amount[:-3] + amount[-2:]
        fen = int(digits) if amount[-3:-2] == "." and digits.isdigit() and digits.isascii() else yuan_to_fen(amount)
        yield StatementLine(kind, fields[order_no_].strip(), fen, fields[trade_no_].strip() or None, refund_no, at)
