"""What every PDF we draw shares: the built-in CJK font, markup-safe text, amounts, QR codes."""
from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

from app.domain.money import yuan

FONT = "STSong-Light"  # reportlab's built-in CJK font: nothing to install, nothing to embed


def cjk_font() -> str:
    # Registered on first use, not at import: nothing happens at import time.
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def cjk_style(name: str, size: float, **extra) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=cjk_font(), fontSize=size, leading=size * 1.4, wordWrap="CJK", **extra)


def markup(value: object) -> str:
    # Paragraph reads its text as markup, so & and < from data must not be taken as tags.
    return escape(str(value))


def amount_text(fen: int) -> str:
    """Fen as yuan with thousands separators: 123456 -> '1,234.56'."""
    whole, _, part = yuan(fen).partition(".")
    return f"{int(whole):,}.{part}"


def qr_drawing(value: str, size: float) -> Drawing:
    # Level M (15 % of the code recoverable) tolerates a crease or a smudge on paper.
    widget = QrCodeWidget(value, barLevel="M", barWidth=size, barHeight=size)
    drawing = Drawing(size, size)
    drawing.add(widget)
    return drawing
