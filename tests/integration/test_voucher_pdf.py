"""The bank counter voucher PDF: rendered by reportlab, read back by poppler or by hand."""
from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from app.adapters.voucher_pdf import render_voucher_pdf

ROOT = Path(__file__).resolve().parents[2]

VOUCHER = {
    "voucher_no": "08487432001234567894",
    "order_no": "2026112310000012345678",
    "tax_authority": "国家税务总局青岛市税务局",
    "payer_name": "张*三",
    "payer_id_number": "3702**********1234",
    "items": [
        {"insurance_label": "城乡居民基本养老保险", "period": "2026-01至2026-12", "amount_fen": 100000},
        {"insurance_label": "城乡居民基本医疗保险", "period": "2026", "amount_fen": 23456},
    ],
    "total_fen": 123456,
    "expires_at": "2026-11-26 23:59:59",
    "issued_at": "2026-11-23 10:00:00",
}


def _literal(data: bytes, start: int) -> tuple[bytes, int]:
    """The PDF literal string opening at data[start] == b'(': its bytes, and where it ends."""
    out, depth, i = bytearray(), 1, start + 1
    escapes = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
    while depth:
        ch = data[i]
        if ch == ord("\\"):
            nxt = data[i + 1]
            if ord("0") <= nxt <= ord("7"):
                digits = re.match(rb"[0-7]{1,3}", data[i + 1:i + 4]).group()
                out.append(int(digits, 8) & 0xFF)
                i += 1 + len(digits)
                continue
            if nxt in (ord("\n"), ord("\r")):
                i += 2
                continue
            out += escapes.get(nxt, bytes([nxt]))
            i += 2
            continue
        if ch == ord("("):
            depth += 1
        elif ch == ord(")"):
            depth -= 1
            if not depth:
                break
        out.append(ch)
        i += 1
    return bytes(out), i + 1


def _content_streams(pdf: bytes) -> list[bytes]:
    """The page content streams, undone from reportlab's ASCII85 + Flate encoding."""
    streams = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = stream.strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data, adobe=True)
        try:
            streams.append(zlib.decompress(data))
        except zlib.error:
            continue  # not a stream we can read
    return streams


def _shown_text(pdf: bytes) -> str:
    """The strings the pages show, decoded as the UTF-16BE the STSong-Light font is fed."""
    lines = []
    for data in _content_streams(pdf):
        i = 0
        while (i := data.find(b"(", i)) != -1:
            raw, i = _literal(data, i)
            if re.match(rb"\s*Tj", data[i:i + 8]) and len(raw) % 2 == 0:
                lines.append(raw.decode("utf-16-be", errors="replace"))
    return "\n".join(lines)


def _poppler_text(pdf: bytes, tmp_path) -> str | None:
    """pdftotext's reading, or None when it cannot map the font (poppler-data missing)."""
    path = tmp_path / "voucher.pdf"
    path.write_bytes(pdf)
    done = subprocess.run([shutil.which("pdftotext"), "-enc", "UTF-8", str(path), "-"],
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    if b"Missing language pack" in done.stderr:
        return None
    return done.stdout.decode("utf-8")


def test_voucher_is_a_one_page_pdf_set_in_the_built_in_cjk_font():
    pdf = render_voucher_pdf(VOUCHER)
    assert pdf.startswith(b"%PDF")
    assert b"STSong-Light" in pdf
    assert re.search(rb"/Type /Pages\s*/Count 1|/Count 1 /Kids", pdf)


def test_importing_the_renderer_registers_no_font():
    check = ("import app.adapters.voucher_pdf; from reportlab.pdfbase import pdfmetrics; "
             "assert 'STSong-Light' not in pdfmetrics.getRegisteredFontNames()")
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_voucher_shows_title_number_payer_items_total_and_instructions():
    text = _shown_text(render_voucher_pdf(VOUCHER))
    for expected in ("社会保险费银行端缴费凭证", "国家税务总局青岛市税务局", "0848 7432 0012 3456 7894",
                     "2026112310000012345678", "张*三", "3702**********1234", "城乡居民基本养老保险",
                     "2026-01至2026-12", "1,000.00", "234.56", "￥1,234.56",
                     "人民币壹仟贰佰叁拾肆元伍角陆分", "请持本凭证到银行柜台缴款", "2026-11-26 23:59:59"):
        assert expected in text, expected


def test_voucher_text_reads_back_with_poppler_when_it_is_installed(tmp_path):
    pdf = render_voucher_pdf(VOUCHER)
    text = _poppler_text(pdf, tmp_path) if shutil.which("pdftotext") else None
    if text is None:
        # No poppler (or no CJK data for it): the font must at least be the one readers carry.
        assert b"STSong-Light" in pdf
        text = _shown_text(pdf)
    compact = re.sub(r"\s+", "", text)
    for expected in ("社会保险费银行端缴费凭证", "壹仟贰佰叁拾肆元伍角陆分", "张*三"):
        assert expected in compact, expected


def test_unmasked_payer_details_are_masked_before_printing():
    text = _shown_text(render_voucher_pdf({**VOUCHER, "payer_name": "张小三", "payer_id_number": "370202199001011234"}))
    assert "张*三" in text and "3702**********1234" in text
    assert "张小三" not in text and "370202199001011234" not in text


def test_the_qr_code_is_drawn():
    content = b"".join(_content_streams(render_voucher_pdf(VOUCHER)))
    assert content.count(b" re f") > 100  # the dark modules of the QR code


def test_markup_characters_in_data_are_printed_not_parsed():
    text = _shown_text(render_voucher_pdf({**VOUCHER, "tax_authority": "税务局<测试>&分局"}))
    assert "税务局<测试>&分局" in text


@pytest.mark.parametrize("change", [{"total_fen": 123455}, {"items": [], "total_fen": 0}])
def test_voucher_whose_items_do_not_add_up_is_refused(change):
    with pytest.raises(ValueError):
        render_voucher_pdf({**VOUCHER, **change})


def test_long_voucher_flows_onto_more_pages():
    items = [{"insurance_label": "基本养老保险", "period": f"2024-{m:02d}", "amount_fen": 79600}
             for m in range(1, 13)] * 4
    pdf = render_voucher_pdf({**VOUCHER, "items": items, "total_fen": 79600 * 48})
    assert int(re.search(rb"/Count (\d+)", pdf).group(1)) >= 2
    assert "人民币叁万捌仟贰佰零捌元整" in _shown_text(pdf)
