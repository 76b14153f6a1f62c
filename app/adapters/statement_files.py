"""The payment statement (缴费清单) as an xlsx workbook (openpyxl) or a CSV file.

Amounts arrive as int fen and are written as yuan: in the workbook as numbers with two
decimals (exact, built from the fen with Decimal) so a spreadsheet can sum them; in the CSV
as text like 1000.00. The CSV starts with a UTF-8 byte order mark because Excel, the tool
most payers open it with, reads Chinese text correctly only then.
"""
from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any, Mapping

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app.domain.money import yuan

__all__ = ["TITLE", "COLUMNS", "statement_xlsx", "statement_csv"]

TITLE = "社会保险费缴费清单"
# (header, key in a statement row, column width)
COLUMNS = (
    ("序号", None, 6),
    ("电子税票号码", "e_ticket_number", 24),
    ("参保人", "insured_name", 10),
    ("证件号码", "insured_id_number", 22),
    ("险种", "title", 26),
    ("费款所属期", "period", 18),
    ("缴费类型", "kind_label", 10),
    ("金额（元）", "amount", 14),
    ("缴费日期", "posted_on", 12),
    ("缴费渠道", "channel_label", 16),
    ("支付方式", "method_label", 14),
    ("订单号", "order_no", 26),
    ("状态", "state_label", 8),
)
AMOUNT_COLUMN = [h for h, _, _ in COLUMNS].index("金额（元）") + 1


def _cells(index: int, row: Mapping[str, Any]) -> list:
    insured = row.get("insured") or {}
    values = {**row, "insured_name": insured.get("name", ""), "insured_id_number": insured.get("id_number", ""),
              "amount": Decimal(row["amount_fen"]) / 100}
    return [index if key is None else values.get(key, "") for _, key, _ in COLUMNS]


def _caption(statement: Mapping[str, Any]) -> str:
    person = statement.get("person") or {}
    return (f"缴费人：{person.get('name', '')}（{person.get('id_number', '')}）  "
            f"{'费款所属期' if statement.get('by') == 'period' else '缴费日期'}："
            f"{statement['start']} 至 {statement['end']}  共{statement['count']}笔")


def statement_xlsx(statement: Mapping[str, Any]) -> bytes:
    """One sheet: title, caption, a header row, one row per posted payment, and the total."""
    wb = Workbook()
    ws = wb.active
    ws.title = "缴费清单"
    ws.append([TITLE])
    ws.append([_caption(statement)])
    ws.append([h for h, _, _ in COLUMNS])
    first = ws.max_row + 1
    for n, row in enumerate(statement["rows"], start=1):
        ws.append(_cells(n, row))
    total = [""] * len(COLUMNS)
    total[0], total[AMOUNT_COLUMN - 1] = "合计", Decimal(statement["total_fen"]) / 100
    ws.append(total)

    ws["A1"].font = Font(size=14, bold=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(COLUMNS))
    ws["A1"].alignment = Alignment(horizontal="center")
    header_fill = PatternFill("solid", fgColor="EEEEEE")
    for cell in ws[3]:
        cell.font, cell.fill = Font(bold=True), header_fill
    for r in range(first, ws.max_row + 1):
        cell = ws.cell(row=r, column=AMOUNT_COLUMN)
        cell.number_format = "#,##0.00"
        for c in (2, 12):  # long digit strings stay text, never 3.37E+19
            ws.cell(row=r, column=c).number_format = "@"
    ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
    for i, (_, _, width) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = ws.cell(row=first, column=1)
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def statement_csv(statement: Mapping[str, Any]) -> bytes:
    """Header row, one row per posted payment, and a total row; UTF-8 with a byte order mark."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([h for h, _, _ in COLUMNS])
    for n, row in enumerate(statement["rows"], start=1):
        cells = _cells(n, row)
        cells[AMOUNT_COLUMN - 1] = yuan(row["amount_fen"])
        writer.writerow(cells)
    total = [""] * len(COLUMNS)
    total[0], total[AMOUNT_COLUMN - 1] = "合计", yuan(statement["total_fen"])
    writer.writerow(total)
    return ("\ufeff" + text.getvalue()).encode("utf-8")
