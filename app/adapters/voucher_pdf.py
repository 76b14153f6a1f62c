"""The bank counter voucher (社会保险费银行端缴费凭证) as an A5 PDF the payer prints and takes to a bank.

Set in STSong-Light, one of the CID fonts every PDF reader carries, so no font file ships with
the project or the PDF. The voucher number is printed large in groups of four, for a clerk
keying it in, and as a QR code, for a clerk scanning it. Amounts come as int fen and are
printed with the fullwidth ￥ (GB 2312, which the font covers, has no halfwidth ¥) and in
financial capitals. The payer's name and document number are printed masked: the
caller passes masked values, and any value without a ``*`` is masked here as well, since a
voucher lies on bank counters and in bins.
"""
from __future__ import annotations

import io
from typing import Any, Mapping

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.adapters.pdf_parts import amount_text, cjk_font, cjk_style, markup, qr_drawing
from app.domain.capitals import fen_to_chinese_capitals
from app.domain.documents import mask_id_number, mask_name

__all__ = ["TITLE", "render_voucher_pdf"]

TITLE = "社会保险费银行端缴费凭证"
INSTRUCTION = "请持本凭证到银行柜台缴款"

_MARGIN = 12 * mm
_FRAME_PADDING = 6  # points, on each side: reportlab's default inside the page margins
_WIDTH = A5[0] - 2 * _MARGIN - 2 * _FRAME_PADDING
_QR_SIZE = 30 * mm
_GRID = colors.HexColor("#808080")


def render_voucher_pdf(voucher: Mapping[str, Any]) -> bytes:
    """The voucher as PDF bytes; ValueError when its items do not add up to its total."""
    items = list(voucher["items"])
    total_fen = voucher["total_fen"]
    if not items:
        raise ValueError("a voucher needs at least one item")
    if sum(item["amount_fen"] for item in items) != total_fen or total_fen <= 0:
        raise ValueError(f"items do not add up to the total of {total_fen} fen")

    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A5, leftMargin=_MARGIN, rightMargin=_MARGIN, topMargin=_MARGIN,
                            bottomMargin=_MARGIN, title=TITLE, author=voucher["tax_authority"],
                            subject=f"凭证号码 {voucher['voucher_no']}")
    doc.build([
        Paragraph(TITLE, styles["title"]),
        Paragraph(markup(voucher["tax_authority"]), styles["subtitle"]),
        Spacer(1, 4 * mm),
        _header(voucher, styles),
        Spacer(1, 4 * mm),
        _items_table(items, total_fen, styles),
        Spacer(1, 2 * mm),
        Paragraph(f"金额（大写）：人民币{fen_to_chinese_capitals(total_fen)}", styles["body"]),
        Spacer(1, 4 * mm),
        KeepTogether([
            Paragraph(f"{INSTRUCTION}。", styles["instruction"]),
            Paragraph(f"本凭证有效期至 {markup(voucher['expires_at'])}，逾期作废，请重新开具。", styles["body"]),
            Paragraph("银行柜员：请扫描二维码或录入凭证号码收款。", styles["small"]),
        ]),
    ])
    return buffer.getvalue()


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": cjk_style("title", 16, alignment=TA_CENTER),
        "subtitle": cjk_style("subtitle", 10, alignment=TA_CENTER),
        "voucher_no": cjk_style("voucher_no", 15),
        "body": cjk_style("body", 9.5),
        "instruction": cjk_style("instruction", 12),
        "small": cjk_style("small", 8, textColor=colors.HexColor("#404040")),
    }


def _masked(value: str, mask) -> str:
    value = (value or "").strip()
    return value if "*" in value else mask(value)


def _grouped(voucher_no: str) -> str:
    return " ".join(voucher_no[i:i + 4] for i in range(0, len(voucher_no), 4))


def _header(voucher: Mapping[str, Any], styles) -> Table:
    body = styles["body"]
    rows = [
        ("凭证号码", Paragraph(_grouped(voucher["voucher_no"]), styles["voucher_no"])),
        ("订单号", voucher["order_no"]),
        ("征收机关", voucher["tax_authority"]),
        ("缴费人", _masked(voucher["payer_name"], mask_name)),
        ("证件号码", _masked(voucher["payer_id_number"], mask_id_number)),
        ("开具时间", voucher["issued_at"]),
        ("有效期至", voucher["expires_at"]),
    ]
    cells = [[Paragraph(label, body), value if isinstance(value, Paragraph) else Paragraph(markup(value), body)]
             for label, value in rows]
    info = Table(cells, colWidths=[18 * mm, _WIDTH - _QR_SIZE - 20 * mm])
    info.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    outer = Table([[info, qr_drawing(voucher["voucher_no"], _QR_SIZE)]],
                  colWidths=[_WIDTH - _QR_SIZE - 2 * mm, _QR_SIZE + 2 * mm])
    outer.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return outer


def _items_table(items: list, total_fen: int, styles) -> Table:
    body = styles["body"]
    rows = [[Paragraph("险种", body), Paragraph("费款所属期", body), Paragraph("金额（元）", body)]]
    for item in items:
        rows.append([Paragraph(markup(item["insurance_label"]), body), Paragraph(markup(item["period"]), body),
                     amount_text(item["amount_fen"])])
    rows.append([Paragraph("合计", body), "", f"￥{amount_text(total_fen)}"])
    table = Table(rows, colWidths=[_WIDTH * 0.46, _WIDTH * 0.28, _WIDTH * 0.26], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), cjk_font()),
        ("FONTSIZE", (0, 0), (-1, -1), 9.5),
        ("GRID", (0, 0), (-1, -1), 0.5, _GRID),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
        ("ALIGN", (2, 1), (2, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("SPAN", (0, -1), (1, -1)),
    ]))
    return table
