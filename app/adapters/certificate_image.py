"""The payment certificate (完税（费）证明) as a PNG image, to save to the phone's album (seed 004).

Drawn with Pillow in the CJK font the contribution-record image uses (the first configured
font that really draws Chinese); the PDF stays the document of record, the image carries the
same number, 查验码, items and verification QR code, so it can be verified the same way.
"""
from __future__ import annotations

import io
from typing import Any, Iterable, Mapping

import qrcode
from PIL import Image, ImageDraw, ImageFont

from app.adapters.contribution_record import _cjk_font_path
from app.adapters.pdf_parts import amount_text

_W, _PAD, _LINE, _QR = 1080, 56, 46, 200
_INK, _GREY, _RULE, _RED = (33, 33, 33), (100, 100, 100), (210, 210, 210), (190, 20, 30)


def render_certificate_png(cert: Mapping[str, Any], font_paths: Iterable[str]) -> bytes:
    """The certificate as a long PNG for a phone screen."""
    path = _cjk_font_path(list(font_paths))
    fonts = {size: ImageFont.truetype(path, size) for size in (44, 30, 28, 24)}
    lines = _lines(cert)
    image = Image.new("RGB", (_W, _PAD * 2 + sum(step for _, _, step in lines)), "white")
    draw = ImageDraw.Draw(image)
    y = _PAD
    for kind, content, step in lines:
        if kind == "title":
            draw.text((_W // 2, y), content, font=fonts[44], fill=_RED, anchor="mt")
        elif kind == "rule":
            draw.line((_PAD, y + step // 2, _W - _PAD, y + step // 2), fill=_RULE, width=2)
        elif kind == "row":
            left, right = content
            draw.text((_PAD, y), left, font=fonts[28], fill=_INK)
            draw.text((_W - _PAD, y), right, font=fonts[28], fill=_INK, anchor="ra")
        else:
            draw.text((_PAD, y), content, font=fonts[24 if kind == "small" else 28],
                      fill=_GREY if kind == "small" else _INK)
        y += step
    if cert.get("verify_url"):  # the same verification link the PDF's QR code carries
        code = qrcode.make(cert["verify_url"], box_size=4, border=2).get_image().convert("RGB")
        code = code.resize((_QR, _QR), Image.NEAREST)  # sharp modules, not blurred ones
        image.paste(code, (_W - _PAD - _QR, image.height - _PAD - _QR))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _lines(cert: Mapping[str, Any]) -> list[tuple[str, Any, int]]:
    lines: list[tuple[str, Any, int]] = [
        ("title", "中华人民共和国税收完税（费）证明", 76),
        ("small", f"证明号码：{cert['certificate_no']}（{cert['kind_label']}）", _LINE),
        ("small", f"税务机关：{cert['tax_authority']}", _LINE),
        ("text", f"缴费人：{cert['payer_name']}　{cert['payer_id_type_label']} {cert['payer_id_number']}", _LINE),
        ("small", f"费款所属期：{cert['period_start']} 至 {cert['period_end']}　填发日期：{cert['issued_on_label']}", _LINE),
        ("rule", None, 30)]
    for item in cert["items"]:
        lines.append(("row", (f"{item['title']} {item['period']}", f"￥{amount_text(item['amount_fen'])}"), _LINE))
        lines.append(("small", f"电子税票号码 {item['e_ticket_number']}　入库日期 {item['posted_on']}", _LINE))
    lines += [("rule", None, 30), ("row", ("金额合计", f"￥{amount_text(cert['total_fen'])}"), _LINE),
              ("small", f"（大写）{cert['total_capitals']}", _LINE),
              ("small", f"查验码：{cert['verification_code']}　可在税务部门网站按证明号码和查验码查验", _LINE)]
    if cert.get("verify_url"):
        lines += [("small", "扫描右侧二维码查验本证明", _QR + 12)]
    return lines
