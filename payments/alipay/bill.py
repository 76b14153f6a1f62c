"""Reads Alipay's daily trade bill (业务明细) into statement lines.

``alipay.data.dataservice.bill.downloadurl.query`` with ``bill_type=trade`` hands out a URL of
a zip holding two GBK CSV files: the detail (业务明细) and its summary (业务明细(汇总)). The
detail has ``#`` comment lines around a table whose header starts with 支付宝交易号; every
cell may carry a trailing tab (Alipay adds it so spreadsheets keep long numbers as text).
Payments are rows of 业务类型 交易; refunds are rows of 退款 with negative amounts and the
refund request number (our refund_no) in 退款批次号/请求号.

The standard csv module does the reading: the format is plain CSV once the comment lines
and the tabs are set aside, so no library is needed.
"""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

from payments.alipay.amounts import fen
from payments.base import StatementLine

SHANGHAI = ZoneInfo("Asia/Shanghai")

_TRADE_NO = "支付宝交易号"
_ORDER_NO = "商户订单号"
_KIND = "业务类型"
_FINISHED_AT = "完成时间"
_AMOUNT = "订单金额（元）"
_REFUND_NO = "退款批次号/请求号"
_KINDS = {"交易": "payment", "退款": "refund"}


class BillUnreadable(ValueError):
    """The downloaded file is not a trade bill we can read."""


def parse_trade_bill(zipped: bytes) -> list[StatementLine]:
    """The payment and refund lines of a downloaded trade bill zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(zipped))
        texts = [archive.read(info).decode("gb18030") for info in archive.infolist()]
    except (zipfile.BadZipFile, UnicodeDecodeError, OSError) as exc:
        raise BillUnreadable(f"not a GBK CSV zip: {exc}") from exc
    # Member names are GBK without the zip UTF-8 flag, so pick the detail file by its header.
    details = [table for table in map(_table, texts) if table and table[0][0] == _TRADE_NO]
    if len(details) != 1:
        raise BillUnreadable(f"expected one 业务明细 table, found {len(details)}")
    return _lines(details[0])


def _table(text: str) -> list[list[str]]:
    rows = csv.reader(line for line in text.splitlines() if line and not line.startswith("#"))
    return [[cell.strip() for cell in row] for row in rows if any(cell.strip() for cell in row)]


def _lines(table: list[list[str]]) -> list[StatementLine]:
    header, *rows = table
    try:
        column = {name: header.index(name) for name in (_TRADE_NO, _ORDER_NO, _KIND, _FINISHED_AT,
                                                        _AMOUNT, _REFUND_NO)}
    except ValueError as exc:
        raise BillUnreadable(f"header lacks a column: {exc}") from exc
    lines = []
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise BillUnreadable(f"row {number} has {len(row)} cells, the header {len(header)}")
        kind = _KINDS.get(row[column[_KIND]])
        if kind is None:
            continue  # other business types (e.g. 结算) are not trades of ours
        try:
            amount_fen = abs(fen(row[column[_AMOUNT]], signed=True))
        except ValueError as exc:
            raise BillUnreadable(f"row {number}: {exc}") from exc
        lines.append(StatementLine(
            kind=kind,
            order_no=row[column[_ORDER_NO]],
            amount_fen=amount_fen,
            provider_trade_no=row[column[_TRADE_NO]] or None,
            refund_no=(row[column[_REFUND_NO]] or None) if kind == "refund" else None,
            at=_time(row[column[_FINISHED_AT]]),
        ))
    return lines


def _time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    except ValueError:
        return None
