"""Adding a channel is its package and the settings: a tax-app channel with our own accounts,
named only in ``CHANNELS`` and ``CHANNEL_PAYMENT_METHODS``, goes through the same flow and
records its own channel and user (in process, with the fake provider)."""
from __future__ import annotations

import pytest

from payments.fake.provider import FakeProvider
from tests.conftest import reset_state
from tests.e2e.test_api_core_flow import ZHANG, enrollment_id

TAX_APP = ("tests.channel_addition.tax_app:build", {"tickets": {"ticket-1": "account-42"}})


@pytest.fixture
def app(settings, database, redis_client, clock):
    from app.factory import create_app

    methods = {**settings["CHANNEL_PAYMENT_METHODS"], "tax_app": ["fake.qr"]}
    app = create_app(dict(settings, CHANNELS={"tax_app": TAX_APP}, CHANNEL_PAYMENT_METHODS=methods), clock=clock,
                     providers={"fake": FakeProvider()})
    reset_state(app, redis_client)
    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    yield app
    app.extensions["sbf"].engine.dispose()


def test_a_channel_named_in_the_settings_alone_pays_and_records_its_user(app):
    client = app.test_client()
    assert [c["code"] for c in client.get("/api/v1/channels").json] == ["tax_app"]
    entry = client.get("/api/v1/channels/tax_app/entry").json
    assert entry["kind"] == "account" and entry["url"] is None
    started = client.post("/api/v1/channels/tax_app/sessions", json={"code": "ticket-1", "state": entry["state"]})
    assert started.status_code == 201 and started.json["channel_user"] == "account-42"
    ch = {"X-Channel-Token": started.json["channel_token"]}
    me = client.post("/api/v1/channels/tax_app/identifications", headers=ch, json={
        "name": ZHANG["name"], "id_type": "resident_id", "id_number": ZHANG["id_number"]}).json
    headers = {"X-Session-Token": me["token"]}
    eid = enrollment_id(me, "pension")
    assert client.post(f"/api/v1/enrollments/{eid}/choices", json={"base_fen": 398000, "effective_month": "2026-11"},
                       headers=headers).status_code == 201
    declared = client.post(f"/api/v1/enrollments/{eid}/declarations", json={"periods": ["2026-11"]},
                           headers=headers).json
    order = client.post("/api/v1/channels/tax_app/orders", headers={**ch, **headers}, json={
        "assessment_ids": [a["id"] for a in declared["assessments"]], "confirmed_amount_fen": declared["total_fen"]})
    assert order.status_code == 201, order.json
    assert order.json["start"] == {"kind": "show_qr", "url": order.json["pay"]["qr_code"], "params": {}}
    incoming = app.extensions["sbf"].providers["fake"].pay(order.json["order_no"])
    assert client.post("/api/v1/notify/fake", data=incoming.body, headers=dict(incoming.headers),
                       content_type="application/json").status_code == 200
    shown = client.get(f"/api/v1/channels/tax_app/orders/{order.json['order_no']}", headers=ch).json
    assert (shown["state"], shown["channel"], shown["channel_user"]) == ("posted", "tax_app", "account-42")


def test_a_ticket_the_accounts_do_not_know_starts_no_session(app):
    client = app.test_client()
    entry = client.get("/api/v1/channels/tax_app/entry").json
    refused = client.post("/api/v1/channels/tax_app/sessions", json={"code": "forged", "state": entry["state"]})
    assert refused.status_code == 401 and refused.json["code"] == "channel_auth_failed"
