"""The contribution record (缴费证明) as an A4 PDF and as a PNG image for the phone's album (保存到相册).

The PDF is set in STSong-Light like the certificates. The image is drawn with Pillow, which
needs a CJK TrueType font on the machine (fonts-wqy-zenhei or fonts-noto-cjk on
Debian): the first of the configured paths that exists is used; when none does, the image
is refused with a clear error and the PDF stays available. Runtime never shells out to a
PDF renderer: the image is drawn directly, not rasterised from the PDF.
"""
from __future__ import annotations

import io
import logging
import os
from typing import Any, Iterable, Mapping

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.adapters.pdf_parts import amount_text, cjk_font, cjk_style, markup
from app.domain.capitals import fen_to_chinese_capitals
from app.domain.errors import DomainError

__all__ = ["TITLE", "NOTE", "ImageFontMissing", "render_record_pdf", "render_record_png"]

log = logging.getLogger(__name__)

TITLE = "社会保险费缴费证明"
NOTE = "本证明根据税务部门征收记录生成，列示已缴纳入库的社会保险费；参保权益以人社、医保部门记录为准。"
_MARGIN = 15 * mm
_WIDTH = A4[0] - 2 * _MARGIN - 12
_GRID = colors.HexColor("#808080")
MAX_IMAGE_ROWS = 360  # a longer history makes an image no phone shows well; the PDF has everything


class ImageFontMissing(DomainError):
    """No CJK font for the image on this machine: an operations problem, answered 503."""

    http_status = 503


def render_record_pdf(record: Mapping[str, Any]) -> bytes:
    """The record as PDF bytes: the holder, then one table per enrollment, then the totals."""
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=_MARGIN, rightMargin=_MARGIN, topMargin=_MARGIN,
                            bottomMargin=_MARGIN, title=TITLE)
    story = [Paragraph(TITLE, styles["title"]), Spacer(1, 4 * mm),
             _holder_table(record, styles), Spacer(1, 3 * mm)]
    for section in record["enrollments"]:
        story.append(Paragraph(markup(f"{section['title']}（个人参保编号 {section['insured_number']}，"
                                     f"{section['region_name']}）"), styles["heading"]))
        story.append(_section_table(section, styles) if section["rows"]
                     else Paragraph("暂无已缴纳记录", styles["body"]))
        story.append(Spacer(1, 4 * mm))
    story += [Paragraph(markup(f"合计：缴费{record['months']}个月，金额人民币{fen_to_chinese_capitals(record['total_fen'])}"
                              f"（￥{amount_text(record['total_fen'])}）"), styles["body"]),
              Spacer(1, 3 * mm), Paragraph(NOTE, styles["small"])]
    doc.build(story)
    return buffer.getvalue()


def _styles() -> dict[str, ParagraphStyle]:
    return {"title": cjk_style("title", 18, alignment=TA_CENTER), "heading": cjk_style("heading", 11, spaceAfter=2),
            "body": cjk_style("body", 9.5), "cell": cjk_style("cell", 8.5),
            "small": cjk_style("small", 8, textColor=colors.HexColor("#404040"))}


def _holder_table(record: Mapping[str, Any], styles) -> Table:
    holder, body = record["holder"], styles["body"]
    cells = [Paragraph(markup(f"姓名：{holder['name']}"), body),
             Paragraph(markup(f"{holder['id_type_label']}：{holder['id_number']}"), body),
             Paragraph(markup(f"生成日期：{record['generated_on']}"), body)]
    table = Table([cells], colWidths=[_WIDTH * 0.25, _WIDTH * 0.45, _WIDTH * 0.30])
    table.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _base(row: Mapping[str, Any]) -> str:
    if row.get("base_yuan"):
        return row["base_yuan"]
    return f"档次{row['grade']}" if row.get("grade") else "—"


def _section_table(section: Mapping[str, Any], styles) -> Table:
    cell = styles["cell"]
    head = ["费款所属期", "月数", "缴费类型", "缴费基数（元）", "金额（元）", "缴费日期", "电子税票号码"]
    rows = [[Paragraph(h, cell) for h in head]]
    for r in section["rows"]:
        rows.append([Paragraph(markup(r["period"]), cell), str(r["months"]), Paragraph(markup(r["kind_label"]), cell),
                     _base(r), amount_text(r["amount_fen"]), r["posted_on"], r["e_ticket_number"]])
    rows.append([Paragraph("小计", cell), str(section["months"]), "", "", amount_text(section["total_fen"]), "", ""])
    table = Table(rows, colWidths=[_WIDTH * w for w in (0.17, 0.07, 0.11, 0.14, 0.13, 0.14, 0.24)], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), cjk_font()), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("GRID", (0, 0), (-1, -1), 0.5, _GRID), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
        ("ALIGN", (1, 1), (1, -1), "RIGHT"), ("ALIGN", (3, 1), (4, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    return table


# the image: 1080 px wide, as tall as the record needs
_W, _PAD, _LINE = 1080, 56, 46
_INK, _GREY, _RULE, _ACCENT = (33, 33, 33), (110, 110, 110), (220, 220, 220), (7, 130, 96)


def _cjk_font_path(paths: Iterable[str]) -> str:
    """The first configured font that exists and really draws Chinese (a Latin-only font draws empty boxes)."""
    for path in paths:
        if path and os.path.exists(path):
            font = ImageFont.truetype(path, 24)
            if _glyph(font, "缴") != _glyph(font, "费"):
                return path
    log.error("no CJK font for the contribution record image; looked at %s", list(paths))
    raise ImageFontMissing("image_font_missing", "暂时无法生成缴费证明图片，请下载PDF版本或稍后再试")


def _glyph(font, char: str) -> bytes:
    canvas = Image.new("L", (32, 32))
    ImageDraw.Draw(canvas).text((0, 0), char, font=font, fill=255)
    return canvas.tobytes()


def render_record_png(record: Mapping[str, Any], font_paths: Iterable[str]) -> bytes:
    """The record as a long PNG image for a phone screen."""
    path = _cjk_font_path(list(font_paths))
    fonts = {size: ImageFont.truetype(path, size) for size in (48, 30, 28, 24)}
    lines = _image_lines(record)
    height = _PAD * 2 + sum(step for _, _, step in lines)
    image = Image.new("RGB", (_W, height), "white")
    draw = ImageDraw.Draw(image)
    y = _PAD
    for kind, content, step in lines:
        if kind == "title":
            draw.text((_W // 2, y), content, font=fonts[48], fill=_INK, anchor="mt")
        elif kind == "rule":
            draw.line((_PAD, y + step // 2, _W - _PAD, y + step // 2), fill=_RULE, width=2)
        elif kind == "heading":
            draw.rectangle((_PAD, y + 6, _PAD + 8, y + 38), fill=_ACCENT)
            draw.text((_PAD + 22, y), content, font=fonts[30], fill=_INK)
        elif kind == "row":
            period, amount, posted = content
            draw.text((_PAD, y), period, font=fonts[28], fill=_INK)
            draw.text((_W - _PAD - 300, y), amount, font=fonts[28], fill=_INK, anchor="ra")
            draw.text((_W - _PAD, y), posted, font=fonts[24], fill=_GREY, anchor="ra")
        else:
            draw.text((_PAD, y), content, font=fonts[24 if kind == "small" else 28],
                      fill=_GREY if kind == "small" else _INK)
        y += step
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _image_lines(record: Mapping[str, Any]) -> list[tuple[str, Any, int]]:
    holder = record["holder"]
    lines: list[tuple[str, Any, int]] = [
        ("title", TITLE, 80), ("text", f"姓名：{holder['name']}", _LINE),
        ("text", f"{holder['id_type_label']}：{holder['id_number']}", _LINE),
        ("small", f"生成日期：{record['generated_on']}", _LINE), ("rule", None, 30)]
    shown = 0
    for section in record["enrollments"]:
        lines.append(("heading", section["title"], 52))
        lines.append(("small", f"个人参保编号 {section['insured_number']} · {section['region_name']}", _LINE))
        if not section["rows"]:
            lines += [("text", "暂无已缴纳记录", _LINE), ("rule", None, 30)]
            continue
        lines.append(("row", ("费款所属期", "金额（元）", "缴费日期"), _LINE))
        for r in section["rows"]:
            if shown >= MAX_IMAGE_ROWS:
                break
            lines.append(("row", (r["period"], amount_text(r["amount_fen"]), r["posted_on"]), _LINE))
            shown += 1
        lines.append(("text", f"小计：{section['months']}个月，￥{amount_text(section['total_fen'])}", _LINE))
        lines.append(("rule", None, 30))
    if shown >= MAX_IMAGE_ROWS:
        lines.append(("small", f"图片仅列示前{MAX_IMAGE_ROWS}条记录，完整记录请下载PDF", _LINE))
    lines.append(("text", f"合计：缴费{record['months']}个月，￥{amount_text(record['total_fen'])}", _LINE))
    lines.append(("small", f"（大写）人民币{fen_to_chinese_capitals(record['total_fen'])}", _LINE))
    for part in (NOTE[:34], NOTE[34:]):
        lines.append(("small", part, 38))
    return lines
