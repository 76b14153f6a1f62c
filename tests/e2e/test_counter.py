"""The bank counter: a printable voucher, then the bank's confirmation posts like any payment."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from payments.counter.confirmation import signed_confirmation
from payments.counter.provider import build
from tests.conftest import reset_state
from tests.e2e.test_api_core_flow import ZHANG, enrollment_id, session
from tests.timeline import wall_timestamp

SECRET = "test-bank-secret"


@pytest.fixture
def app(settings, database, redis_client, clock):
    from app.factory import create_app

    counter = build(bank_keys={"ccb": SECRET}, voucher_base_url="http://127.0.0.1:5000/api/v1/vouchers")
    app = create_app(dict(settings), clock=clock, providers={"counter": counter})
    reset_state(app, redis_client)
    yield app
    app.extensions["sbf"].engine.dispose()


def voucher_order(client, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    body, headers = session(client, ZHANG)
    eid = enrollment_id(body, "pension")
    client.post(f"/api/v1/enrollments/{eid}/choices", json={"base_fen": 398000}, headers=headers)
    declared = client.post(f"/api/v1/enrollments/{eid}/declarations", json={"periods": ["2026-11"]}, headers=headers)
    created = client.post("/api/v1/orders", json={"assessment_ids": [declared.json["assessments"][0]["id"]],
                                                  "method": "counter.voucher", "confirmed_amount_fen": 79600},
                          headers=headers)
    assert created.status_code == 201, created.json
    return headers, created.json


def test_a_counter_voucher_lasts_days_and_prints_masked(client, runner):
    headers, order = voucher_order(client, runner)
    assert order["pay"]["provider_ref"] and order["pay"]["pay_url"].endswith(f"{order['order_no']}.pdf")
    assert order["expires_at"].startswith("2026-11-26")  # three days, not thirty minutes
    token = headers["X-Session-Token"]
    pdf = client.get(f"/api/v1/vouchers/{order['order_no']}.pdf?token={token}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"/api/v1/vouchers/{order['order_no']}.pdf").status_code == 401
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True).stdout.decode()
        assert "张*" in text and "张伟" not in text


def test_the_banks_confirmation_posts_once(client, runner):
    headers, order = voucher_order(client, runner)
    body = json.dumps({"bank": "ccb", "voucher_no": order["pay"]["provider_ref"], "order_no": order["order_no"],
                       "amount_fen": 79600, "bank_serial": "CCB0001", "paid_at": "2026-11-23T10:05:00+08:00",
                       "kind": "payment"}).encode()
    incoming = signed_confirmation("ccb", SECRET, body, wall_timestamp())
    for _ in range(2):
        answer = client.post("/api/v1/notify/counter", data=body, headers=dict(incoming.headers))
        assert answer.status_code == 200
    forged = signed_confirmation("ccb", "not-the-secret", body, wall_timestamp())
    assert client.post("/api/v1/notify/counter", data=body, headers=dict(forged.headers)).status_code == 400
    shown = client.get(f"/api/v1/orders/{order['order_no']}", headers=headers).json
    assert shown["state"] == "posted" and shown["items"][0]["e_ticket_number"]


def test_the_banks_daily_file_posts_through_the_same_checks(client, runner, tmp_path, app):
    headers, order = voucher_order(client, runner)
    path = tmp_path / "ccb-20261123.csv"
    path.write_text("voucher_no,order_no,amount_fen,bank_serial,paid_at,kind,refund_no\n"
                    f"{order['pay']['provider_ref']},{order['order_no']},79600,CCB0002,2026-11-23T10:06:00+08:00,payment,\n"
                    f"{order['pay']['provider_ref']},{order['order_no']},79601,CCB0003,2026-11-23T10:06:00+08:00,payment,\n",
                    encoding="utf-8")
    app.config["COUNTER_BANK_KEYS"] = {"ccb": SECRET}
    result = runner.invoke(args=["bank", "import-file", str(path), "--bank", "ccb"])
    assert result.exit_code == 0, result.output
    assert "handled 1, refused 1" in result.output  # the second line is one fen off
    assert client.get(f"/api/v1/orders/{order['order_no']}", headers=headers).json["state"] == "posted"


@pytest.mark.parametrize("content, says", [
    (b"voucher_no,order_no\n", "header"),  # not the bank file's columns
    (b"\xff\xfe", "UTF-8"),
])
def test_a_bank_file_that_cannot_be_read_is_refused_in_one_line_and_posts_nothing(runner, tmp_path, app, content,
                                                                                    says):
    path = tmp_path / "ccb-20261123.csv"
    path.write_bytes(content)
    app.config["COUNTER_BANK_KEYS"] = {"ccb": SECRET}
    result = runner.invoke(args=["bank", "import-file", str(path), "--bank", "ccb"])
    assert result.exit_code == 1 and says in result.output and "Traceback" not in result.output
