"""The documents of looking back, drawn from plain dicts: statement files, certificate PDF, record image."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import reportlab
from openpyxl import load_workbook
from PIL import Image

from app.adapters.certificate_pdf import render_certificate_pdf
from app.adapters.contribution_record import ImageFontMissing, render_record_png
from app.adapters.statement_files import statement_csv, statement_xlsx
from app.domain.model import Assessment
from app.services.lookback_declarations import void_refusal
from app.services.lookback_views import declaration_state

ROW = {"e_ticket_number": "33702002611230001234", "insured": {"name": "张*", "id_number": "3702**********0013"},
       "title": "灵活就业人员基本养老保险", "period": "2026-09", "kind_label": "补缴", "amount_fen": 100001,
       "posted_on": "2026-11-23", "channel_label": "开放接口", "method_label": "模拟支付",
       "order_no": "2026112310000012345678", "state_label": "已缴纳"}
STATEMENT = {"person": {"name": "张*", "id_number": "3702**********0013"}, "start": "2026-11-01", "end": "2026-11-30",
             "count": 2, "total_fen": 100001 + 99,
             "rows": [ROW, {**ROW, "amount_fen": 99, "e_ticket_number": "3" * 20}]}


def test_the_statement_workbook_keeps_amounts_exact_and_long_numbers_as_text():
    sheet = load_workbook(io.BytesIO(statement_xlsx(STATEMENT))).active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[2])
    amount = header.index("金额（元）")
    assert [Decimal(str(r[amount])) for r in rows[3:]] == [Decimal("1000.01"), Decimal("0.99"), Decimal("1001.00")]
    assert rows[3][header.index("电子税票号码")] == "33702002611230001234"  # not 3.37E+19
    assert rows[-1][0] == "合计" and "3702**********0013" in rows[1][0]


def test_the_statement_csv_opens_in_excel_with_chinese_intact():
    data = statement_csv(STATEMENT)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    amount = rows[0].index("金额（元）")
    assert [r[amount] for r in rows[1:]] == ["1000.01", "0.99", "1001.00"] and rows[1][2] == "张*"


CERT = {"certificate_no": "370200261126000000015", "verification_code": "0123456789", "kind": "original",
        "verify_url": "http://127.0.0.1:5000/verify?certificate_no=370200261126000000015&code=0123456789",
        "tax_authority": "国家税务总局<青岛市>&税务局", "payer_name": "张伟", "payer_id_type_label": "居民身份证",
        "payer_id_number": "3702**********0013", "issued_on_label": "2026年11月26日", "reissue_of": None,
        "original_issued_on_label": None, "total_fen": 100000,
        "items": [{"e_ticket_number": "3" * 20, "title": "基本养老保险", "period": "2026-09", "treasury_on": "2026-11-26",
                   "amount_fen": 100000}]}


def test_a_certificate_whose_items_do_not_add_up_is_not_drawn():
    assert render_certificate_pdf(CERT).startswith(b"%PDF")
    with pytest.raises(ValueError):
        render_certificate_pdf({**CERT, "total_fen": 100001})
    with pytest.raises(ValueError):
        render_certificate_pdf({**CERT, "items": [], "total_fen": 0})


RECORD = {"holder": {"name": "张伟", "id_type_label": "居民身份证", "id_number": "3702**********0013"},
          "generated_on": "2026年11月26日", "months": 1, "total_fen": 100000,
          "enrollments": [{"title": "灵活就业人员基本养老保险", "insured_number": "370200000001", "region_name": "青岛市",
                           "months": 1, "total_fen": 100000,
                           "rows": [{"period": "2026-09", "amount_fen": 100000, "posted_on": "2026-11-23"}]}]}


def test_the_record_image_needs_a_cjk_font_and_says_so_clearly_when_there_is_none(tmp_path):
    latin_only = str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf")  # draws Chinese as empty boxes
    assert Path(latin_only).exists()
    with pytest.raises(ImageFontMissing) as err:
        render_record_png(RECORD, [str(tmp_path / "missing.ttc"), "", latin_only])
    assert err.value.http_status == 503 and err.value.code == "image_font_missing" and "PDF" in err.value.message


def test_the_record_image_draws_chinese_with_the_installed_font():
    from config.settings import Base

    image = Image.open(io.BytesIO(render_record_png(RECORD, Base.CJK_FONT_PATHS)))
    assert image.size[0] == 1080
    ink = image.crop((200, 40, 880, 130)).convert("L").point(lambda p: 255 if p < 128 else 0).histogram()[255]
    assert ink > 1000  # the title is drawn


def _a(state: str, kind: str = "regular") -> Assessment:
    return Assessment(enrollment_id=1, person_id=1, insurance="pension", region="370200",
                      period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), amount_fen=1, kind=kind,
                      notice_number="N", state=state)


@pytest.mark.parametrize("states, kind, code", [
    (["declared_unpaid", "declared_unpaid"], "regular", None),
    (["declared_unpaid", "paying"], "regular", "declaration_being_paid"),
    (["paid"], "regular", "declaration_paid"),
    (["refunded"], "regular", "declaration_paid"),
    (["voided"], "regular", "declaration_already_voided"),
    (["declared_unpaid"], "special", "special_not_voidable"),
])
def test_what_may_be_voided(states, kind, code):
    refusal = void_refusal([_a(s, kind) for s in states])
    assert (refusal[0] if refusal else None) == code


@pytest.mark.parametrize("states, expected", [
    ({"declared_unpaid"}, "declared_unpaid"), ({"declared_unpaid", "paying"}, "paying"),
    ({"paid", "declared_unpaid"}, "partly_paid"), ({"paid", "voided"}, "paid"), ({"voided"}, "voided"),
    ({"refunded"}, "refunded"),
])
def test_a_declaration_state_sums_up_its_assessments(states, expected):
    assert declaration_state(states) == expected
