"""Looking back through the HTTP API: a posted payment yields a certificate that renders, links to
its verification and verifies; re-issues are marked; voiding is refused while paying; statements add up."""
from __future__ import annotations

import csv
import io
import subprocess
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import zxingcpp
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select

from app.adapters import tables as t
from app.adapters.clock import SHANGHAI
from tests.e2e.test_api_core_flow import ZHANG, ZHAO, enrollment_id, session

POSTED_ON = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # the clock fixture's Monday
IN_TREASURY = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)  # three working days later


def declare(client, row, insurance, choice, periods):
    body, headers = session(client, row)
    eid = enrollment_id(body, insurance)
    assert client.post(f"/api/v1/enrollments/{eid}/choices", json=choice, headers=headers).status_code == 201
    declared = client.post(f"/api/v1/enrollments/{eid}/declarations", json={"periods": periods}, headers=headers)
    assert declared.status_code == 201, declared.json
    return headers, declared.json


def order(client, headers, declared):
    created = client.post("/api/v1/orders", headers=headers, json={
        "assessment_ids": [a["id"] for a in declared["assessments"]], "method": "fake.qr",
        "confirmed_amount_fen": declared["total_fen"]})
    assert created.status_code == 201, created.json
    return created.json["order_no"]


def pay(client, app, order_no):
    incoming = app.extensions["sbf"].providers["fake"].pay(order_no)
    answer = client.post("/api/v1/notify/fake", data=incoming.body, headers=dict(incoming.headers),
                         content_type="application/json")
    assert answer.status_code == 200


@pytest.fixture
def posted(client, app, runner):
    """张伟 pays three months of pension at a base of 5000 元 (3 × 1000 元), posted on Monday 2026-11-23."""
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    headers, declared = declare(client, ZHANG, "pension", {"base_fen": 500000, "effective_month": "2026-09"},
                                ["2026-09", "2026-10", "2026-11"])
    order_no = order(client, headers, declared)
    pay(client, app, order_no)
    shown = client.get(f"/api/v1/orders/{order_no}", headers=headers).json
    assert shown["state"] == "posted"
    return headers, order_no, [i["e_ticket_number"] for i in shown["items"]]


def issue(client, headers, start="2026-09", end="2026-11", **extra):
    return client.post("/api/v1/certificates", json={"period_start": start, "period_end": end, **extra},
                       headers=headers)


def pdf_pages(pdf: bytes, tmp_path, dpi: int = 150) -> list[Image.Image]:
    (tmp_path / "doc.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(tmp_path / "doc.pdf"), str(tmp_path / "page")],
                   check=True, capture_output=True)
    return [Image.open(p) for p in sorted(tmp_path.glob("page*.png"))]


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, check=True, capture_output=True)
    return done.stdout.decode("utf-8")


def posted_sum(container, start: datetime, end: datetime) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.sum(t.payment.c.amount_fen), 0)).where(
            t.payment.c.posted_at >= start, t.payment.c.posted_at < end)).scalar_one())


def test_a_certificate_waits_for_the_treasury_and_says_from_when(client, posted, clock):
    headers, _, _ = posted
    answer = issue(client, headers)
    assert answer.status_code == 409
    assert answer.json["code"] == "not_in_treasury_yet"
    assert "2026年11月26日" in answer.json["message"]
    clock.set(IN_TREASURY - timedelta(days=1))
    assert issue(client, headers).json["code"] == "not_in_treasury_yet"


def test_a_posted_payment_yields_a_certificate_pdf_with_the_chinese_text_and_the_right_total(
        client, posted, clock, tmp_path):
    headers, _, tickets = posted
    clock.set(IN_TREASURY)
    answer = issue(client, headers)
    assert answer.status_code == 201, answer.json
    assert answer.json["pending"] == []
    [cert] = answer.json["certificates"]
    assert cert["total_fen"] == 300000 and cert["total_capitals"] == "叁仟元整" and cert["kind"] == "original"
    assert cert["person"]["name"] == "张*" and ZHANG["id_number"] not in str(answer.json)

    pdf = client.get(cert["pdf_url"], headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    pages = pdf_pages(pdf.data, tmp_path)
    assert len(pages) == 1 and pages[0].width > 1000
    text = pdf_text(pdf.data)
    for expected in ("完税（费）证明", "非印刷", "张伟", "国家税务总局青岛市税务局", "人民币叁仟元整", "￥3,000.00",
                     cert["certificate_no"], "2026年11月26日", "灵活就业人员基本养老保险", "2026-09", "2026-11",
                     ZHANG["id_number"][:4] + "*" * 10 + ZHANG["id_number"][-4:], *tickets):
        assert expected in text, expected
    assert ZHANG["id_number"] not in text
    assert "补开" not in text


def test_the_certificate_qr_code_opens_the_verification_page_which_says_genuine(client, posted, clock, tmp_path,
                                                                               settings):
    headers, _, _ = posted
    clock.set(IN_TREASURY)
    [cert] = issue(client, headers).json["certificates"]
    page = pdf_pages(client.get(cert["pdf_url"], headers=headers).data, tmp_path)[0]
    codes = [c.text for c in zxingcpp.read_barcodes(page)]
    assert codes == [cert["verify_url"]]
    url = urlsplit(codes[0])
    assert f"{url.scheme}://{url.netloc}" == settings["PUBLIC_BASE_URL"] and url.path == "/verify"
    shown = client.get(f"{url.path}?{url.query}")
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert "真实有效" in html and cert["certificate_no"] in html and "张*" in html
    assert "张伟" not in html and ZHANG["id_number"] not in html
    forged = client.get(f"/verify?certificate_no={cert['certificate_no']}&code=0000000000")
    assert forged.status_code == 404 and "未查询到" in forged.get_data(as_text=True)


def test_verification_of_its_e_ticket_number_says_genuine_and_of_an_altered_one_not_found(client, posted, clock):
    _, _, tickets = posted
    genuine = client.get(f"/api/v1/verifications?e_ticket_number={tickets[0]}")
    assert genuine.status_code == 200, genuine.json
    assert genuine.json["genuine"] is True and genuine.json["amount_fen"] == 100000
    assert genuine.json["insured"] == {"id_type": "resident_id", "id_type_label": "居民身份证", "name": "张*",
                                       "id_number": ZHANG["id_number"][:4] + "*" * 10 + ZHANG["id_number"][-4:]}
    assert genuine.json["tax_authority"] == "国家税务总局青岛市税务局" and genuine.json["state_label"] == "已缴纳"
    # serials are consecutive within an order, so alter the last digit to one no ticket of it has
    altered = next(tickets[0][:-1] + d for d in "0123456789" if tickets[0][:-1] + d not in tickets)
    assert altered not in tickets
    missing = client.get(f"/api/v1/verifications?e_ticket_number={altered}")
    assert missing.status_code == 404 and missing.json["code"] == "verification_not_found"
    with_document = client.post("/api/v1/verifications", json={"e_ticket_number": tickets[0],
                                                                 "id_number": ZHANG["id_number"].lower()})
    assert with_document.status_code == 200 and with_document.json["genuine"]
    other_document = client.post("/api/v1/verifications", json={"e_ticket_number": tickets[0],
                                                                  "id_number": ZHAO["id_number"]})
    assert other_document.status_code == 404 and other_document.json == missing.json  # nothing else leaks
    page = client.get(f"/verify?e_ticket_number={tickets[1]}")
    assert page.status_code == 200 and "真实有效" in page.get_data(as_text=True)
    posted_form = client.post("/verify", data={"e_ticket_number": tickets[1], "id_number": ZHAO["id_number"]})
    assert posted_form.status_code == 404 and "未查询到" in posted_form.get_data(as_text=True)
    assert ZHAO["id_number"] not in posted_form.get_data(as_text=True)  # not echoed back into the form


def test_a_reissue_is_marked_as_such_and_linked_to_the_original(client, posted, clock, tmp_path):
    headers, _, tickets = posted
    clock.set(IN_TREASURY)
    [original] = issue(client, headers).json["certificates"]
    again = issue(client, headers)
    assert again.status_code == 409 and again.json["code"] == "certificate_already_issued"
    clock.set(IN_TREASURY + timedelta(days=7))
    found = client.get(f"/api/v1/certificates?issued_from=2026-11-01&issued_to=2026-12-03"
                       f"&e_ticket_number={tickets[1]}", headers=headers)
    assert [c["certificate_no"] for c in found.json] == [original["certificate_no"]]
    reissued = client.post(f"/api/v1/certificates/{original['certificate_no']}/reissue", headers=headers)
    assert reissued.status_code == 201, reissued.json
    cert = reissued.json
    assert cert["kind"] == "reissue" and cert["kind_label"] == "补开"
    assert cert["reissue_of"] == original["certificate_no"] and cert["certificate_no"] != original["certificate_no"]
    assert cert["total_fen"] == original["total_fen"] and cert["issued_on"] == "2026-12-03"
    text = pdf_text(client.get(cert["pdf_url"], headers=headers).data)
    assert "完税（费）证明（补开）" in text and f"原证明号码：{original['certificate_no']}" in text
    assert "原填发日期：2026年11月26日" in text and "人民币叁仟元整" in text
    # a re-issue of the re-issue still links to the first original
    twice = client.post(f"/api/v1/certificates/{cert['certificate_no']}/reissue", headers=headers)
    assert twice.json["reissue_of"] == original["certificate_no"]
    verified = client.get(f"/api/v1/verifications?certificate_no={cert['certificate_no']}"
                          f"&code={cert['verification_code']}")
    assert verified.json["reissue_of"] == original["certificate_no"] and verified.json["kind_label"] == "补开"


def test_someone_else_cannot_see_or_reissue_a_certificate(client, posted, clock):
    headers, _, _ = posted
    clock.set(IN_TREASURY)
    [cert] = issue(client, headers).json["certificates"]
    _, other = session(client, ZHAO)
    for answer in (client.get(f"/api/v1/certificates/{cert['certificate_no']}", headers=other),
                   client.get(cert["pdf_url"], headers=other),
                   client.post(f"/api/v1/certificates/{cert['certificate_no']}/reissue", headers=other)):
        assert answer.status_code == 404 and answer.json["code"] == "certificate_not_found"
    assert client.get(cert["pdf_url"]).status_code == 401


def test_a_certificate_for_another_person_needs_their_name_and_document(client, app, posted, clock):
    headers, _, _ = posted
    zhao_headers, zhao = declare(client, ZHAO, "pension", {"grade": "1", "effective_month": "2026-01"}, ["2026"])
    pay(client, app, order(client, zhao_headers, zhao))
    clock.set(IN_TREASURY)
    wrong = issue(client, headers, "2026-01", "2026-12", other_person={
        "name": "赵丽丽", "id_type": "resident_id", "id_number": ZHAO["id_number"]})
    assert wrong.status_code == 404 and wrong.json["code"] == "identity_not_matched"
    right = issue(client, headers, "2026", "2026", other_person={
        "name": ZHAO["name"], "id_type": "resident_id", "id_number": ZHAO["id_number"]})
    assert right.status_code == 201, right.json
    [cert] = right.json["certificates"]
    assert cert["person"]["name"] == "赵*" and cert["requested_by"]["name"] == "张*" and cert["for_another_person"]
    assert cert["total_fen"] == zhao["total_fen"] and cert["tax_authority"] == "国家税务总局贵州省税务局"


def test_voiding_a_declaration_that_is_being_paid_is_refused_and_so_is_voiding_a_paid_one(client, app, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    headers, declared = declare(client, ZHANG, "pension", {"base_fen": 398000}, ["2026-11"])
    notice = declared["notice_number"]
    order_no = order(client, headers, declared)
    paying = client.post(f"/api/v1/declarations/{notice}/void", json={}, headers=headers)
    assert paying.status_code == 409 and paying.json["code"] == "declaration_being_paid"
    assert "支付中" in paying.json["message"]
    assert client.get(f"/api/v1/declarations/{notice}", headers=headers).json["state"] == "paying"
    pay(client, app, order_no)
    paid = client.post(f"/api/v1/declarations/{notice}/void", json={}, headers=headers)
    assert paid.status_code == 409 and paid.json["code"] == "declaration_paid"


def test_an_unpaid_declaration_is_voided_and_its_periods_can_be_declared_again(client, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    headers, declared = declare(client, ZHANG, "pension", {"base_fen": 398000, "effective_month": "2026-10"},
                                ["2026-10", "2026-11"])
    notice = declared["notice_number"]
    listed = client.get("/api/v1/declarations", headers=headers).json
    assert [d["notice_number"] for d in listed] == [notice] and listed[0]["voidable"]
    assert listed[0]["state_label"] == "未支付" and listed[0]["total_fen"] == declared["total_fen"]
    voided = client.post(f"/api/v1/declarations/{notice}/void", json={}, headers=headers)
    assert voided.status_code == 200, voided.json
    assert voided.json["state"] == "voided" and not voided.json["voidable"]
    again = client.post(f"/api/v1/declarations/{notice}/void", json={}, headers=headers)
    assert again.status_code == 409 and again.json["code"] == "declaration_already_voided"
    status = client.get("/api/v1/payment-status?start=2026-10&end=2026-11", headers=headers).json
    assert [r["status"] for r in status["periods"] if r["title"] == "灵活就业人员基本养老保险"] == [
        "undeclared_unpaid", "undeclared_unpaid"]
    eid = declared["assessments"][0]["enrollment_id"]
    redeclared = client.post(f"/api/v1/enrollments/{eid}/declarations", json={"periods": ["2026-11"]}, headers=headers)
    assert redeclared.status_code == 201
    _, other = session(client, ZHAO)
    assert client.post(f"/api/v1/declarations/{notice}/void", json={}, headers=other).status_code == 404


def test_the_statement_xlsx_opens_and_its_sums_equal_the_posted_payments_of_the_range(client, app, posted,
                                                                                       container, clock):
    headers, order_no, tickets = posted
    # a second payment two days later, outside the first day's range
    clock.set(POSTED_ON + timedelta(days=2))
    medical_headers, medical = declare(client, ZHANG, "medical", {"base_fen": 398000}, ["2026-11"])
    pay(client, app, order(client, medical_headers, medical))
    answer = client.get("/api/v1/statements?start=2026-11-23&end=2026-11-23&format=xlsx", headers=headers)
    assert answer.status_code == 200
    assert answer.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(answer.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "社会保险费缴费清单"
    header = list(rows[2])
    amount, ticket = header.index("金额（元）"), header.index("电子税票号码")
    data, total = rows[3:-1], rows[-1]
    day_start = datetime(2026, 11, 23, tzinfo=SHANGHAI)
    expected = posted_sum(container, day_start, day_start + timedelta(days=1))
    assert expected == 300000
    assert sorted(r[ticket] for r in data) == sorted(tickets)
    assert sum(Decimal(str(r[amount])) * 100 for r in data) == expected
    assert total[0] == "合计" and Decimal(str(total[amount])) * 100 == expected
    whole = client.get("/api/v1/statements?start=2026-11-01&end=2026-11-30&format=csv", headers=headers)
    assert whole.status_code == 200 and whole.data.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(whole.data.decode("utf-8-sig"))))
    month_sum = posted_sum(container, datetime(2026, 11, 1, tzinfo=SHANGHAI), datetime(2026, 12, 1, tzinfo=SHANGHAI))
    assert month_sum == 300000 + medical["total_fen"]
    amount = lines[0].index("金额（元）")
    assert len(lines) == 1 + 4 + 1 and lines[-1][0] == "合计"
    assert sum(Decimal(r[amount]) * 100 for r in lines[1:-1]) == Decimal(lines[-1][amount]) * 100 == month_sum


def test_a_statement_range_longer_than_a_year_is_refused(client, posted):
    headers, _, _ = posted
    answer = client.get("/api/v1/statements?start=2025-01-01&end=2026-11-23", headers=headers)
    assert answer.status_code == 400 and answer.json["code"] == "date_range_too_long"
    reversed_ = client.get("/api/v1/statements?start=2026-11-23&end=2026-11-01", headers=headers)
    assert reversed_.json["code"] == "date_range_reversed"


def test_payment_history_shows_items_e_tickets_channel_and_who_paid_masked(client, app, posted):
    headers, order_no, tickets = posted
    zhao_headers, zhao = declare(client, ZHAO, "pension", {"grade": "1", "effective_month": "2026-01"}, ["2026"])
    family = {"X-Session-Token": headers["X-Session-Token"] + "," + zhao_headers["X-Session-Token"]}
    proxy_order = order(client, family, zhao)  # 张伟 pays for 赵丽 (代他人缴费)
    pay(client, app, proxy_order)
    mine = client.get("/api/v1/payment-history", headers=headers).json
    assert [o["order_no"] for o in mine["orders"]] == [proxy_order, order_no]
    first = mine["orders"][1]
    assert first["state_label"] == "缴费成功" and first["method_label"] == "模拟支付" and not first["proxy"]
    assert sorted(i["e_ticket_number"] for i in first["items"]) == sorted(tickets)
    assert mine["orders"][0]["proxy"] and mine["orders"][0]["items"][0]["insured"]["name"] == "赵*"
    theirs = client.get("/api/v1/payment-history", headers=zhao_headers).json
    assert [o["order_no"] for o in theirs["orders"]] == [proxy_order]
    assert theirs["orders"][0]["payer"]["name"] == "张*" and "张伟" not in str(theirs)


def test_the_contribution_record_comes_as_json_pdf_and_png(client, posted, tmp_path):
    headers, _, _ = posted
    record = client.get("/api/v1/contribution-record", headers=headers).json
    pension = next(s for s in record["enrollments"] if s["title"] == "灵活就业人员基本养老保险")
    assert pension["months"] == 3 and pension["total_fen"] == 300000 and record["total_fen"] == 300000
    assert [r["period"] for r in pension["rows"]] == ["2026-09", "2026-10", "2026-11"]
    pdf = client.get("/api/v1/contribution-record.pdf", headers=headers)
    assert pdf.status_code == 200 and len(pdf_pages(pdf.data, tmp_path)) == 1
    text = pdf_text(pdf.data)
    assert "社会保险费缴费证明" in text and "张伟" in text and "人民币叁仟元整" in text and "缴费3个月" in text
    png = client.get("/api/v1/contribution-record.png", headers=headers)
    assert png.status_code == 200 and png.mimetype == "image/png"
    image = Image.open(io.BytesIO(png.data))
    assert image.format == "PNG" and image.width == 1080 and image.height > 600
    assert image.convert("L").getextrema()[0] < 100  # something was drawn in ink
