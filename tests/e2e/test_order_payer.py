"""Who pays an order comes from the caller's sessions, never from the body; the payer is the one stated."""
from __future__ import annotations

from tests.e2e.test_api_core_flow import ZHANG, ZHAO
from tests.e2e.test_api_lookback import pay
from tests.e2e.test_api_orders import declare


def test_an_order_body_cannot_name_the_channel_or_the_payer(client, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    headers, declared = declare(client, ZHANG, "pension", {"base_fen": 398000}, ["2026-11"])
    answer = client.post("/api/v1/orders", headers=headers, json={
        "assessment_ids": [a["id"] for a in declared["assessments"]], "method": "fake.qr",
        "confirmed_amount_fen": declared["total_fen"], "channel": "wechat_oa", "payer_ref": "o-someone"})
    assert answer.status_code == 422
    assert answer.json["errors"] == {"channel": ["不支持的字段"], "payer_ref": ["不支持的字段"]}


def test_the_payer_is_the_first_identified_person_not_the_lowest_id(client, app, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    zhang_headers, zhang = declare(client, ZHANG, "pension", {"base_fen": 398000}, ["2026-11"])
    zhao_headers, _ = declare(client, ZHAO, "pension", {"grade": "1", "effective_month": "2026-01"}, ["2026"])
    zhao_pays = {"X-Session-Token": zhao_headers["X-Session-Token"] + "," + zhang_headers["X-Session-Token"]}
    created = client.post("/api/v1/orders", headers=zhao_pays, json={
        "assessment_ids": [a["id"] for a in zhang["assessments"]], "method": "fake.qr",
        "confirmed_amount_fen": zhang["total_fen"]})
    assert created.status_code == 201, created.json
    assert created.json["channel"] == "api" and created.json["channel_user"] is None
    pay(client, app, created.json["order_no"])

    [order] = client.get("/api/v1/payment-history", headers=zhang_headers).json["orders"]
    assert order["payer"]["name"] == "赵*" and order["proxy"] is True  # 赵丽 paid for 张伟
