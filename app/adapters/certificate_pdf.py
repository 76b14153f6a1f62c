"""The payment certificate (完税（费）证明, 非印刷) as an A4 PDF.

Set in STSong-Light, a CID font every PDF reader carries, so no font file ships with the
project or the PDF. It shows the certificate number, the payer (own name, document number
masked), the tax authority, one line per posted payment (e-ticket number, insurance type,
fee period, treasury date, amount), the total in figures and in financial capitals, the
issue date, and a QR code opening the public verification page with the verification code
(查验码) printed beside it for typing. A re-issue (补开) says so under the title, names the
original, and carries a "补开" watermark on every page, so a copy cannot pass for the
original. Amounts are int fen, printed as yuan with the fullwidth ￥ (GB 2312, which the
font covers, has no halfwidth ¥).
"""
from __future__ import annotations

import io
from typing import Any, Mapping

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.adapters.pdf_parts import FONT, amount_text, cjk_font, cjk_style, markup, qr_drawing
from app.domain.capitals import fen_to_chinese_capitals

__all__ = ["TITLE", "REISSUE_MARK", "render_certificate_pdf"]

TITLE = "完税（费）证明"
SUBTITLE = "社会保险费 · 非印刷"
REISSUE_MARK = "补开"

_MARGIN = 15 * mm
_WIDTH = A4[0] - 2 * _MARGIN - 12  # the frame keeps 6 points of padding on each side
_QR_SIZE = 32 * mm
_GRID = colors.HexColor("#808080")
_RED = colors.HexColor("#B22222")


def render_certificate_pdf(cert: Mapping[str, Any]) -> bytes:
    """The certificate as PDF bytes; ValueError when its items do not add up to its total."""
    items = list(cert["items"])
    if not items or sum(i["amount_fen"] for i in items) != cert["total_fen"]:
        raise ValueError(f"items do not add up to the total of {cert['total_fen']} fen")
    reissued = cert["kind"] == "reissue"
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=_MARGIN, rightMargin=_MARGIN, topMargin=_MARGIN,
                            bottomMargin=_MARGIN + 6 * mm, title=f"{TITLE} {cert['certificate_no']}",
                            author=cert["tax_authority"], subject="社会保险费完税（费）证明")
    story = [Paragraph(TITLE + (f"（{REISSUE_MARK}）" if reissued else ""), styles["title"]),
             Paragraph(SUBTITLE, styles["subtitle"])]
    if reissued:
        story.append(Paragraph(markup(f"本证明为补开证明，原证明号码：{cert['reissue_of']}"
                                     f"（原填发日期：{cert['original_issued_on_label']}）"), styles["reissue"]))
    story += [Spacer(1, 3 * mm), _header(cert, styles), Spacer(1, 3 * mm), _items(items, cert["total_fen"], styles),
              Spacer(1, 4 * mm), KeepTogether(_footer(cert, styles))]

    def decorate(canvas, document):
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.HexColor("#404040"))
        canvas.drawCentredString(A4[0] / 2, _MARGIN, f"证明号码 {cert['certificate_no']}    第 {document.page} 页")
        if reissued:
            # a light watermark across every page: a re-issue never passes for the original
            canvas.setFillColor(colors.Color(0.7, 0.13, 0.13, alpha=0.12))
            canvas.setFont(FONT, 120)
            canvas.translate(A4[0] / 2, A4[1] / 2)
            canvas.rotate(35)
            canvas.drawCentredString(0, -40, REISSUE_MARK)
        canvas.restoreState()

    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": cjk_style("title", 20, alignment=TA_CENTER),
        "subtitle": cjk_style("subtitle", 10, alignment=TA_CENTER, textColor=colors.HexColor("#404040")),
        "reissue": cjk_style("reissue", 10.5, alignment=TA_CENTER, textColor=_RED, spaceBefore=4),
        "body": cjk_style("body", 9.5),
        "cell": cjk_style("cell", 9),
        "small": cjk_style("small", 8, textColor=colors.HexColor("#404040")),
        "caption": cjk_style("caption", 8, alignment=TA_CENTER, textColor=colors.HexColor("#404040")),
    }


def _header(cert: Mapping[str, Any], styles) -> Table:
    body = styles["body"]
    rows = [
        ("证明号码", f"No. {cert['certificate_no']}", "填发日期", cert["issued_on_label"]),
        ("税务机关", cert["tax_authority"], "", ""),
        ("缴费人名称", cert["payer_name"], cert["payer_id_type_label"], cert["payer_id_number"]),
    ]
    cells = [[Paragraph(markup(v), body) for v in row] for row in rows]
    table = Table(cells, colWidths=[_WIDTH * 0.15, _WIDTH * 0.40, _WIDTH * 0.15, _WIDTH * 0.30])
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, _GRID),
        ("SPAN", (1, 1), (3, 1)),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F2F2F2")),
        ("BACKGROUND", (2, 0), (2, 0), colors.HexColor("#F2F2F2")),
        ("BACKGROUND", (2, 2), (2, 2), colors.HexColor("#F2F2F2")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    return table


def _items(items: list, total_fen: int, styles) -> Table:
    cell = styles["cell"]
    head = ["电子税票号码", "险种", "费款所属期", "入库日期", "实缴金额（元）"]
    rows = [[Paragraph(h, cell) for h in head]]
    for i in items:
        rows.append([Paragraph(markup(i["e_ticket_number"]), cell), Paragraph(markup(i["title"]), cell),
                     Paragraph(markup(i["period"]), cell), Paragraph(markup(i["treasury_on"]), cell),
                     amount_text(i["amount_fen"])])
    rows.append([Paragraph("金额合计（大写）", cell), Paragraph(f"人民币{fen_to_chinese_capitals(total_fen)}", cell), "",
                 Paragraph("（小写）", cell), f"￥{amount_text(total_fen)}"])
    table = Table(rows, colWidths=[_WIDTH * 0.25, _WIDTH * 0.27, _WIDTH * 0.17, _WIDTH * 0.13, _WIDTH * 0.18],
                  repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), cjk_font()),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("GRID", (0, 0), (-1, -1), 0.5, _GRID),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
        ("ALIGN", (4, 1), (4, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("SPAN", (1, -1), (2, -1)),
    ]))
    return table


def _footer(cert: Mapping[str, Any], styles) -> list:
    notes = [
        Paragraph("说明：", styles["body"]),
        Paragraph("1. 本证明仅证明所列社会保险费已缴纳入库，不作为缴费人记账、抵扣凭证。", styles["small"]),
        Paragraph("2. 本证明为非印刷证明，可扫描右侧二维码，或在查验页面输入证明号码和查验码查验真伪。", styles["small"]),
        Paragraph(markup(f"3. 查验码：{cert['verification_code']}"), styles["body"]),
        Paragraph(markup(f"填发日期：{cert['issued_on_label']}"), styles["body"]),
    ]
    qr = Table([[qr_drawing(cert["verify_url"], _QR_SIZE)], [Paragraph("扫码查验", styles["caption"])]], colWidths=[_QR_SIZE + 4])
    qr.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                            ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    outer = Table([[notes, qr]], colWidths=[_WIDTH - _QR_SIZE - 8, _QR_SIZE + 8])
    outer.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return [outer]


