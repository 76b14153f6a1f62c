"""Orders and notifications over HTTP with the fake provider."""
from __future__ import annotations

from tests.e2e.test_api_core_flow import ZHANG, ZHAO, enrollment_id, session


def declare(client, row, insurance, choice, periods):
    body, headers = session(client, row)
    eid = enrollment_id(body, insurance)
    assert client.post(f"/api/v1/enrollments/{eid}/choices", json=choice, headers=headers).status_code == 201
    declared = client.post(f"/api/v1/enrollments/{eid}/declarations", json={"periods": periods}, headers=headers)
    assert declared.status_code == 201, declared.json
    return headers, declared.json


def test_family_members_pay_in_one_order_and_see_it_posted(client, app, runner, settings):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    zhang_headers, zhang = declare(client, ZHANG, "pension", {"base_fen": 398000}, ["2026-11"])
    zhao_headers, zhao = declare(client, ZHAO, "pension", {"grade": "1", "effective_month": "2026-01"}, ["2026"])
    family = {"X-Session-Token": zhang_headers["X-Session-Token"] + "," + zhao_headers["X-Session-Token"]}
    ids = [a["id"] for a in zhang["assessments"] + zhao["assessments"]]
    total = zhang["total_fen"] + zhao["total_fen"]
    created = client.post("/api/v1/orders", json={"assessment_ids": ids, "method": "fake.qr",
                                                  "confirmed_amount_fen": total}, headers=family)
    assert created.status_code == 201, created.json
    order_no = created.json["order_no"]
    assert created.json["pay"]["qr_code"] == f"fake://pay/{order_no}"
    assert {i["insured"]["name"] for i in created.json["items"]} == {"张*", "赵*"}

    fake = app.extensions["sbf"].providers["fake"]
    incoming = fake.pay(order_no)
    for _ in range(3):
        answer = client.post("/api/v1/notify/fake", data=incoming.body, headers=dict(incoming.headers),
                             content_type="application/json")
        assert answer.status_code == 200 and answer.data == b"OK"
    shown = client.get(f"/api/v1/orders/{order_no}", headers=zhang_headers)
    assert shown.json["state"] == "posted" and shown.json["state_label"] == "缴费成功"
    assert all(i["e_ticket_number"] for i in shown.json["items"])
    status = client.get("/api/v1/payment-status?start=2026-11&end=2026-11", headers=zhang_headers)
    assert [r["period"] for r in status.json["paid"]] == ["2026-11"]


def test_a_forged_notification_over_http_is_refused(client, app):
    answer = client.post("/api/v1/notify/fake", data=b'{"kind":"payment"}', headers={"X-Fake-Signature": "00"},
                         content_type="application/json")
    assert answer.status_code == 400
    assert client.post("/api/v1/notify/nobody", data=b"x").status_code == 404
