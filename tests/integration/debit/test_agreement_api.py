"""The agreement API over HTTP (test client) against the sandbox bank: file, sign, password, pay, lock."""
from __future__ import annotations

import json
from datetime import timedelta

from tests.e2e.test_api_core_flow import DEMO, ZHANG, session
from tests.integration.debit.conftest import CARD

LI = next(r for r in DEMO["enrollments"] if r["name"] == "李秀英")


def declare(client, headers, body, months=("2026-11",)):
    enrollment = next(e["id"] for e in body["enrollments"] if e["insurance"] == "pension")
    assert client.post(f"/api/v1/enrollments/{enrollment}/choices", headers=headers,
                       json={"base_fen": 500000, "effective_month": "2026-10"}).status_code == 201
    answer = client.post(f"/api/v1/enrollments/{enrollment}/declarations", headers=headers,
                         json={"periods": list(months)})
    assert answer.status_code == 201, answer.json
    return answer.json["assessments"]


def setup_payer(client, container):
    body, headers = session(client, ZHANG)
    person_id = _person_id(container, ZHANG)
    account = client.post("/api/v1/bank-accounts", headers=headers, json={
        "person_id": person_id, "bank_code": "105", "account_kind": "card", "account_no": CARD, "holder_name": "张伟"})
    assert account.status_code == 201, account.json
    signed = client.post("/api/v1/agreements", headers=headers, json={
        "person_id": person_id, "bank_account_id": account.json["id"], "mode": "signed_online", "auto_pay": True})
    assert signed.status_code == 201 and signed.json["state"] == "active", signed.json
    assert client.post("/api/v1/payment-password/sms-code", headers=headers).status_code == 201
    with container.uow() as uow:
        phone = uow.persons.get(person_id).phone
    code = container.sms.messages(phone)[0]["text"].split("验证码")[1][:6]
    answer = client.put("/api/v1/payment-password", headers=headers,
                        json={"sms_code": code, "password": "258147", "password_again": "258147"})
    assert answer.status_code == 200 and answer.json["enabled"], answer.json
    return body, headers, signed.json


def _person_id(container, row):
    with container.uow() as uow:
        return uow.persons.find_by_document("resident_id", row["id_number"]).id


def test_file_sign_set_password_and_pay_a_month_by_agreement(client, container, zhang, bank):
    body, headers, agreement = setup_payer(client, container)
    listed = client.get("/api/v1/bank-accounts", headers=headers).json
    assert listed[0]["account_no"] == "6222 **** **** 3446" and CARD not in json.dumps(listed)
    assessments = declare(client, headers, body)
    paid = client.post("/api/v1/agreement-payments", headers=headers, json={
        "agreement_id": agreement["id"], "assessment_ids": [assessments[0]["id"]],
        "confirmed_amount_fen": assessments[0]["amount_fen"], "password": "258147"})
    assert paid.status_code == 201 and paid.json["state"] == "posted", paid.json
    assert client.get("/api/v1/agreements", headers=headers).json[0]["agreement_no"] == agreement["agreement_no"]


def test_three_wrong_passwords_log_the_payer_out_and_lock_for_three_minutes(client, container, zhang, bank, clock):
    body, headers, agreement = setup_payer(client, container)
    a = declare(client, headers, body)[0]
    pay = {"agreement_id": agreement["id"], "assessment_ids": [a["id"]], "confirmed_amount_fen": a["amount_fen"]}
    for left in (2, 1):
        wrong = client.post("/api/v1/agreement-payments", headers=headers, json={**pay, "password": "111111"})
        assert wrong.status_code == 400 and wrong.json["message"] == f"支付密码错误，还可尝试{left}次"
    locked = client.post("/api/v1/agreement-payments", headers=headers, json={**pay, "password": "111111"})
    assert locked.status_code == 429 and locked.json["code"] == "payment_password_locked"
    assert "锁定3分钟" in locked.json["message"]
    assert client.get("/api/v1/agreements", headers=headers).status_code == 401  # 强制退出登录
    _, headers = session(client, ZHANG)
    still = client.post("/api/v1/agreement-payments", headers=headers, json={**pay, "password": "258147"})
    assert still.status_code == 429
    clock.set(clock.now() + timedelta(minutes=3))
    _, headers = session(client, ZHANG)
    assert client.post("/api/v1/agreement-payments", headers=headers,
                       json={**pay, "password": "258147"}).json["state"] == "posted"
    assert len(bank.ledger.debits) == 1


def test_bad_input_gets_a_clear_error_and_writes_nothing(client, container, zhang):
    _, headers = session(client, ZHANG)
    person_id = _person_id(container, ZHANG)
    bad = client.post("/api/v1/bank-accounts", headers=headers, json={
        "person_id": person_id, "bank_code": "105", "account_kind": "card", "account_no": "6222020200112233445",
        "holder_name": "张伟"})
    assert bad.status_code == 400 and bad.json["code"] == "account_no_invalid" and bad.json["errors"]["account_no"]
    unknown_bank = client.post("/api/v1/bank-accounts", headers=headers, json={
        "person_id": person_id, "bank_code": "999", "account_kind": "card", "account_no": CARD, "holder_name": "张伟"})
    assert unknown_bank.status_code == 422
    assert client.get("/api/v1/bank-accounts", headers=headers).json == []
    assert client.post("/api/v1/agreements", headers=headers, json={
        "person_id": person_id, "bank_account_id": 999, "mode": "signed_online"}).json["code"] == "bank_account_not_found"
    assert client.get("/api/v1/agreements").status_code == 401


def test_an_agreement_for_a_relative_identified_first(client, container, zhang, bank):
    _, mine = session(client, ZHANG)
    _, theirs = session(client, LI)
    both = {"X-Session-Token": mine["X-Session-Token"] + "," + theirs["X-Session-Token"]}
    li = _person_id(container, LI)
    account = client.post("/api/v1/bank-accounts", headers=both, json={
        "person_id": li, "bank_code": "105", "account_kind": "card", "account_no": CARD, "holder_name": "张伟",
        "holder_is_other": True, "holder_id_type": "resident_id", "holder_id_number": ZHANG["id_number"]})
    assert account.status_code == 201, account.json
    signed = client.post("/api/v1/agreements", headers=both, json={
        "person_id": li, "bank_account_id": account.json["id"], "mode": "signed_online"})
    assert signed.json["for_other"] and signed.json["insured"]["name"] == "李*英"
    revoked = client.post(f"/api/v1/agreements/{signed.json['id']}/revoke", headers=both)
    assert revoked.json["state"] == "revoked"


def test_the_payer_sees_the_batch_debit_results_with_the_reason(client, container, zhang, bank):
    from app.jobs.batch_debit import run_day
    from datetime import date

    body, headers, agreement = setup_payer(client, container)
    enrollment = next(e["id"] for e in body["enrollments"] if e["insurance"] == "pension")
    assert client.post(f"/api/v1/enrollments/{enrollment}/choices", headers=headers, json={
        "base_fen": 500000, "effective_month": "2026-10", "batch_debit_allowed": True}).status_code == 201
    client.post(f"/api/v1/enrollments/{enrollment}/declarations", headers=headers, json={"periods": ["2026-11"]})
    bank.accounts(**{CARD: {"balance_fen": 0}})
    assert run_day(container, "370200", date(2026, 11, 25))["failed"] == 1
    lines = client.get("/api/v1/batch-debits", headers=headers).json
    assert [(x["period"], x["state_label"], x["reason"]) for x in lines] == [("2026-11", "扣款未成功", "账户余额不足")]


def test_the_sandbox_sms_inbox_is_shown_only_where_the_settings_allow(client):
    assert client.get("/api/v1/sandbox/sms?phone=13800000001").status_code == 404
