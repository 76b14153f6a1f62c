"""Late fees (滞纳金) through the HTTP API: an overdue period in a region whose table sets one (西藏,
flexible pension) is priced with it to the fen, priced again on a later day, posted with its own
e-ticket number, and shown on the certificate as its own line; a region without one charges none."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.adapters.clock import SHANGHAI
from payments.counter.provider import build as build_counter
from payments.fake.provider import FakeProvider
from tests.conftest import reset_state
from tests.e2e.test_api_core_flow import ZHANG
from tests.e2e.test_api_lookback import declare, pay, pdf_text

ZHUOMA = {"name": "卓玛", "id_type": "resident_id", "id_number": "540103198809090626"}
BASE = {"base_fen": 560000, "effective_month": "2026-09"}  # 5600 元 × 20 % = 1120 元 a month
IN_TREASURY = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def app(settings, database, redis_client, clock):
    """The app with the fake provider and the bank counter (whose voucher lists every line)."""
    from app.factory import create_app

    methods = {**settings["CHANNEL_PAYMENT_METHODS"], "api": ["fake.qr", "counter.voucher"]}
    counter = build_counter(bank_keys={"ccb": "test-bank-secret"},
                            voucher_base_url="http://127.0.0.1:5000/api/v1/vouchers")
    app = create_app(dict(settings, CHANNEL_PAYMENT_METHODS=methods), clock=clock,
                     providers={"fake": FakeProvider(), "counter": counter})
    reset_state(app, redis_client)
    yield app
    app.extensions["sbf"].engine.dispose()


def test_an_overdue_month_in_tibet_is_priced_with_its_late_fee_to_the_fen(client, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    headers, declared = declare(client, ZHUOMA, "pension", BASE, ["2026-09", "2026-10", "2026-11"])
    fees = {a["period"]: (a["amount_fen"], a["late_fee_fen"], a["late_fee_days"]) for a in declared["assessments"]}
    # on 2026-11-23: September is 54 days past its due day (09-30), October 23, November not yet due
    assert fees == {"2026-09": (112000, 3024, 54), "2026-10": (112000, 1288, 23), "2026-11": (112000, 0, 0)}
    assert (declared["total_fen"], declared["late_fee_fen"], declared["amount_due_fen"]) == (336000, 4312, 340312)


def test_a_region_without_a_late_fee_charges_none(client, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    _, declared = declare(client, ZHANG, "pension", {"base_fen": 500000, "effective_month": "2026-09"},
                          ["2026-09", "2026-10"])
    assert declared["late_fee_fen"] == 0 and declared["amount_due_fen"] == declared["total_fen"]


def test_an_order_made_a_day_later_prices_the_late_fee_again(client, runner, clock):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    headers, declared = declare(client, ZHUOMA, "pension", BASE, ["2026-10"])
    ids = [a["id"] for a in declared["assessments"]]
    clock.set(clock.now() + timedelta(days=1))
    stale = client.post("/api/v1/orders", headers=headers, json={
        "assessment_ids": ids, "method": "fake.qr", "confirmed_amount_fen": declared["amount_due_fen"]})
    assert stale.status_code == 409 and stale.json["code"] == "amount_changed"
    assert "1133.44元" in stale.json["message"]  # 1120 元 + 24 days × 0.05 % = 13.44 元
    listed = client.get("/api/v1/assessments?state=declared_unpaid", headers=headers).json
    assert [(a["late_fee_fen"], a["amount_due_fen"]) for a in listed] == [(1344, 113344)]


def test_a_late_fee_is_posted_and_certified_as_its_own_line(client, app, runner, clock):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    headers, declared = declare(client, ZHUOMA, "pension", BASE, ["2026-10"])
    created = client.post("/api/v1/orders", headers=headers, json={
        "assessment_ids": [a["id"] for a in declared["assessments"]], "method": "fake.qr",
        "confirmed_amount_fen": declared["amount_due_fen"]})
    assert created.status_code == 201, created.json
    assert created.json["amount_fen"] == 113288
    [item] = created.json["items"]
    assert (item["item_amount_fen"], item["late_fee_fen"]) == (112000, 1288)

    pay(client, app, created.json["order_no"])
    [item] = client.get(f"/api/v1/orders/{created.json['order_no']}", headers=headers).json["items"]
    assert item["e_ticket_number"] and item["late_fee_e_ticket_number"]
    assert item["e_ticket_number"] != item["late_fee_e_ticket_number"]

    clock.set(IN_TREASURY)
    answer = client.post("/api/v1/certificates", json={"period_start": "2026-10", "period_end": "2026-10"},
                         headers=headers)
    assert answer.status_code == 201, answer.json
    [cert] = answer.json["certificates"]
    lines = {(i["title"], i["amount_fen"], i["e_ticket_number"]) for i in cert["items"]}
    assert lines == {("灵活就业人员基本养老保险", 112000, item["e_ticket_number"]),
                     ("基本养老保险滞纳金", 1288, item["late_fee_e_ticket_number"])}
    assert cert["total_fen"] == 113288
    text = pdf_text(client.get(cert["pdf_url"], headers=headers).data)
    late_line = next(line for line in text.splitlines() if item["late_fee_e_ticket_number"] in line)
    assert "基本养老保险滞纳金" in late_line and "12.88" in late_line  # its own line, own ticket, own amount
    assert "1,120.00" in next(line for line in text.splitlines() if item["e_ticket_number"] in line)
    assert "1,132.88" in text


def test_a_counter_voucher_lists_the_late_fee_as_its_own_line(client, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    headers, declared = declare(client, ZHUOMA, "pension", BASE, ["2026-10"])
    created = client.post("/api/v1/orders", headers=headers, json={
        "assessment_ids": [a["id"] for a in declared["assessments"]], "method": "counter.voucher",
        "confirmed_amount_fen": declared["amount_due_fen"]})
    assert created.status_code == 201, created.json
    voucher = client.get(f"/api/v1/vouchers/{created.json['order_no']}.pdf", headers=headers)
    assert voucher.status_code == 200
    text = pdf_text(voucher.data)
    late_line = next(line for line in text.splitlines() if "滞纳金" in line)
    assert "12.88" in late_line and "1,132.88" in text
