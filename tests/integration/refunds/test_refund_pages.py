"""The refund application's pages (tax app and e-tax bureau) and its API, behind the account sign-in."""
from __future__ import annotations

import re
from datetime import datetime

from app.adapters.clock import SHANGHAI
from tests.accounts.support import ZHANG, phone_of_record, register
from tests.accounts.test_pages import csrf, sign_in
from tests.e2e.test_api_core_flow import session
from tests.integration.refunds.conftest import CARD

IN_TREASURY = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)


def signed_in_zhang(app, client):
    phone = phone_of_record(app, ZHANG)
    register(client, ZHANG, "zhangwei", phone)
    sign_in(client, "zhangwei", phone)


def test_a_payer_applies_from_the_tax_app_filing_an_account_on_the_way(app, client, zhang_paid, clock):
    person_id, declared, _ = zhang_paid
    clock.set(IN_TREASURY)
    signed_in_zhang(app, client)
    start = client.get("/refunds/tax_app/")
    text = start.get_data(as_text=True)
    assert start.status_code == 200 and "张*" in text and "3702**********0013" in text and "中国" in text
    assert "370202198503150013" not in text
    answer = client.post("/refunds/tax_app/", data={"csrf_token": csrf(start), "insurance": "pension"})
    assert answer.location.endswith("/refunds/tax_app/bank-account")  # no account filed: file one first
    page = client.get("/refunds/tax_app/bank-account")
    answer = client.post("/refunds/tax_app/bank-account", data={
        "csrf_token": csrf(page), "bank_code": "105", "account_kind": "card", "account_no": CARD, "holder_name": "张伟"})
    assert answer.location.endswith("/refunds/tax_app/form")  # and brought back
    form = client.get("/refunds/tax_app/form")
    assert "重复缴费" in form.get_data(as_text=True) and "6222 **** **** 3446" in form.get_data(as_text=True)
    account_id = re.search(r'<option value="(\d+)"', form.get_data(as_text=True).split('id="bank_account_id"')[1]).group(1)
    answer = client.post("/refunds/tax_app/form", data={
        "csrf_token": csrf(form), "reason_type": "duplicate", "reason_text": "九月重复缴费", "bank_account_id": account_id,
        "action": "add_items"})
    assert answer.location.endswith("/refunds/tax_app/items")
    items = client.get("/refunds/tax_app/items?period_start=2026-09&period_end=2026-11")
    first = declared["assessments"][0]["id"]
    assert items.get_data(as_text=True).count('name="assessment_id"') == 3
    answer = client.post("/refunds/tax_app/items", data={"csrf_token": csrf(items), "assessment_id": [str(first)]})
    assert answer.location.endswith("/refunds/tax_app/form")
    form = client.get("/refunds/tax_app/form")
    assert "九月重复缴费" in form.get_data(as_text=True) and 'id="refund-added"' in form.get_data(as_text=True)
    done = client.post("/refunds/tax_app/form", data={
        "csrf_token": csrf(form), "reason_type": "duplicate", "reason_text": "九月重复缴费", "bank_account_id": account_id,
        "action": "submit"})
    assert "/refunds/tax_app/done/TF" in done.location
    page = client.get(done.location).get_data(as_text=True)
    assert "退费申请成功" in page
    number = re.search(r'id="application-no">(TF\d+)<', page).group(1)
    # the same form sent again submits nothing: the draft is gone, and the item is held anyway
    again = client.post("/refunds/tax_app/form", data={
        "csrf_token": csrf(form), "reason_type": "duplicate", "reason_text": "九月重复缴费", "bank_account_id": account_id,
        "action": "submit"})
    assert again.location.endswith("/refunds/tax_app/")
    listed = client.get("/refunds/tax_app/").get_data(as_text=True)
    assert listed.count("class=\"refund-state\"") == 1 and number in listed and "受理" in listed
    assert "受理" in client.get(f"/refunds/etax_web/applications/{number}").get_data(as_text=True)


def test_a_forged_post_without_the_csrf_token_changes_nothing(app, client, zhang_paid, clock):
    clock.set(IN_TREASURY)
    signed_in_zhang(app, client)
    answer = client.post("/refunds/tax_app/", data={"insurance": "pension"})
    assert answer.status_code == 400


def test_the_pages_need_a_signed_in_account(client):
    answer = client.get("/refunds/tax_app/")
    assert answer.status_code == 302 and "/accounts/login" in answer.location
    assert client.get("/refunds/elsewhere/").status_code == 404


def test_the_api_applies_and_looks_back_in_chinese(app, client, zhang_paid, clock, container):
    from app.services import bank_accounts

    person_id, declared, _ = zhang_paid
    clock.set(IN_TREASURY)
    account = bank_accounts.file_bank_account(person_id, [person_id], {
        "bank_code": "105", "account_kind": "card", "account_no": CARD, "holder_name": "张伟"},
        container.uow(), clock)
    _, headers = session(client, ZHANG)
    start = client.get("/api/v1/refund-applications/start", headers=headers).json
    assert start["person"]["id_number"] == "3702**********0013" and not start["needs_bank_account"]
    items = client.get("/api/v1/refund-applications/items?insurance=pension&period_start=2026-09&period_end=2026-11",
                       headers=headers).json
    assert [i["selectable"] for i in items] == [True, True, True]
    body = {"insurance": "pension", "reason_type": "overpaid", "reason_text": "多缴", "bank_account_id": account["id"],
            "assessment_ids": [items[0]["assessment_id"]]}
    made = client.post("/api/v1/refund-applications", json=body, headers=headers)
    assert made.status_code == 201 and made.json["state_label"] == "受理"
    twice = client.post("/api/v1/refund-applications", json=body, headers=headers)
    assert twice.status_code == 409 and twice.json["code"] == "refund_item_applied" and "不能重复申请" in twice.json["message"]
    bad = client.post("/api/v1/refund-applications", json={**body, "reason_type": "whim"}, headers=headers)
    assert bad.status_code == 422
    listed = client.get("/api/v1/refund-applications", headers=headers).json
    assert [a["application_no"] for a in listed] == [made.json["application_no"]]
    assert client.get("/api/v1/refund-applications", headers={}).status_code == 401


def test_every_channels_look_back_shows_how_an_application_stands(app, zhang_paid, clock, container):
    from app.services import bank_accounts
    from app.services import refund_applications as ra
    from tests.e2e.test_h5_pages import CHANNEL, identify

    person_id, declared, _ = zhang_paid
    clock.set(IN_TREASURY)
    account = bank_accounts.file_bank_account(person_id, [person_id], {
        "bank_code": "105", "account_kind": "card", "account_no": CARD, "holder_name": "张伟"},
        container.uow(), clock)
    made = ra.submit_refund_application(ra.Applicant(person_id), {
        "insurance": "pension", "reason_type": "duplicate", "reason_text": "重复缴费", "bank_account_id": account["id"],
        "assessment_ids": [declared["assessments"][0]["id"]]}, container.uow(), clock, container.certificates)
    ra.reject_refund_application(made["application_no"], "clerk-a", "不属于重复缴费", container.uow(), clock)
    browser = app.test_client()
    with browser.session_transaction() as s:  # as the channel's authorization callback leaves it
        s.update(channel=CHANNEL, channel_user="2088000000000001", channel_token="t", payer_ref=None)
    assert browser.get(f"/h5/{CHANNEL}/refund-applications").status_code == 302  # identify first
    identify(browser, ZHANG)
    page = browser.get(f"/h5/{CHANNEL}/refund-applications").get_data(as_text=True)
    assert made["application_no"] in page and "不予退费" in page and "不属于重复缴费" in page
