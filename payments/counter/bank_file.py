"""A bank's daily file of counter payments and refunds, turned into confirmations.

The file is CSV (UTF-8, an Excel byte-order mark tolerated) with the header
``voucher_no,order_no,amount_fen,bank_serial,paid_at,kind,refund_no``; ``refund_no`` is filled
only on ``kind`` "refund" lines. Each line becomes a confirmation signed with the bank's
secret and stamped ``now``, exactly what the bank would have POSTed, so a file import goes
through ``parse_notification`` and the same settlement as the live API: one set of checks,
and a line the bank already confirmed online is a duplicate by its bank serial.

Signing here proves nothing about the file itself: the file is authenticated by the operator
who uploads it (their login and the audit trail of the upload), and a file must only be
imported from an operator session. This module checks the file's shape and names the line
of the first malformed row; what a row says (check digits, order, amount) is checked by
``parse_notification`` like any confirmation.
"""
from __future__ import annotations

import csv
import io
import json
import re

from datetime import datetime

from payments.base import IncomingNotification, StatementLine
from payments.counter.confirmation import signed_confirmation

__all__ = ["COLUMNS", "confirmations_from_bank_file", "statement_from_bank_file"]

COLUMNS = ("voucher_no", "order_no", "amount_fen", "bank_serial", "paid_at", "kind", "refund_no")
_WHOLE_FEN = re.compile(r"[0-9]{1,15}", re.ASCII)


def confirmations_from_bank_file(text: str, bank: str, secret: str, now: int) -> list[IncomingNotification]:
    """One signed confirmation per line of the bank's file; ValueError naming the first bad line."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    header = _next_row(reader)
    if header is None or tuple(cell.strip() for cell in header) != COLUMNS:
        raise ValueError(f"line {max(reader.line_num, 1)}: the header must be {','.join(COLUMNS)}")
    confirmations = []
    while (row := _next_row(reader)) is not None:
        if not any(cell.strip() for cell in row):
            continue  # blank lines, often at the end
        fields = _row_fields(row, reader.line_num)
        body = json.dumps({"bank": bank, **fields}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        confirmations.append(signed_confirmation(bank, secret, body, now))
    return confirmations


def statement_from_bank_file(text: str) -> list[StatementLine]:
    """The file's lines as a statement, for reconciliation; ValueError naming the first bad line."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    header = _next_row(reader)
    if header is None or tuple(cell.strip() for cell in header) != COLUMNS:
        raise ValueError(f"line {max(reader.line_num, 1)}: the header must be {','.join(COLUMNS)}")
    lines = []
    while (row := _next_row(reader)) is not None:
        if not any(cell.strip() for cell in row):
            continue
        fields = _row_fields(row, reader.line_num)
        try:
            at = datetime.fromisoformat(fields["paid_at"])
        except ValueError:
            raise ValueError(f"line {reader.line_num}: paid_at is not an ISO 8601 time") from None
        lines.append(StatementLine(kind=fields["kind"], order_no=fields["order_no"], amount_fen=fields["amount_fen"],
                                   provider_trade_no=fields["bank_serial"], refund_no=fields.get("refund_no"), at=at))
    return lines


def _next_row(reader) -> list[str] | None:
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as error:
        raise ValueError(f"line {reader.line_num}: {error}") from None


def _row_fields(row: list[str], line: int) -> dict:
    if len(row) != len(COLUMNS):
        raise ValueError(f"line {line}: {len(row)} columns, expected {len(COLUMNS)}")
    cells = dict(zip(COLUMNS, (cell.strip() for cell in row)))
    for name in ("voucher_no", "order_no", "amount_fen", "bank_serial", "paid_at", "kind"):
        if not cells[name]:
            raise ValueError(f"line {line}: {name} is empty")
    if not _WHOLE_FEN.fullmatch(cells["amount_fen"]):
        raise ValueError(f"line {line}: amount_fen must be whole fen, not {cells['amount_fen']!r}")
    kind = cells["kind"]
    if kind not in ("payment", "refund"):
        raise ValueError(f"line {line}: kind must be payment or refund, not {kind!r}")
    if (kind == "refund") != bool(cells["refund_no"]):
        raise ValueError(f"line {line}: refund_no is required on refund lines and only there")
    fields = {name: cells[name] for name in ("voucher_no", "order_no", "bank_serial", "paid_at", "kind")}
    fields["amount_fen"] = int(cells["amount_fen"])
    if kind == "refund":
        fields["refund_no"] = cells["refund_no"]
    return fields
