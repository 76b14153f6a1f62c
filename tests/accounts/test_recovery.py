"""Forgot password, change password, change phone and recover phone (seeds 000, 001, 004)."""
from __future__ import annotations

from tests.accounts.support import STRONG, UNKNOWN, count, last_code, login, register, solve, start_login

PHONE, NEW_PASSWORD = "13922223333", "Another-Strong-Pass-77"


def auth(token):
    return {"X-Account-Token": token}


def test_forgot_password_answers_alike_for_unknown_accounts_and_resets_with_the_code(client):
    register(client, UNKNOWN, "chenjing", PHONE)
    session = login(client, "chenjing", PHONE)
    known = client.post("/api/v1/accounts/password-resets", json={"username": "chenjing", "human_check": solve(client)})
    unknown = client.post("/api/v1/accounts/password-resets", json={"username": "nobody", "human_check": solve(client)})
    assert known.status_code == unknown.status_code == 201 and known.json == unknown.json
    code = last_code(client, PHONE)
    refused = client.post("/api/v1/accounts/password-resets/confirmation",
                          json={"username": "nobody", "sms_code": code, "new_password": NEW_PASSWORD})
    assert refused.status_code == 400 and refused.json["code"] == "sms_code_invalid"
    weak = client.post("/api/v1/accounts/password-resets/confirmation",
                       json={"username": "chenjing", "sms_code": code, "new_password": "chenjing123"})
    assert weak.status_code == 400 and weak.json["code"] == "password_weak"
    done = client.post("/api/v1/accounts/password-resets/confirmation",
                       json={"username": "chenjing", "sms_code": code, "new_password": NEW_PASSWORD})
    assert done.status_code == 200
    assert client.get("/api/v1/accounts/me", headers=auth(session)).status_code == 401  # every session ended
    assert start_login(client, username="chenjing").status_code == 401
    assert start_login(client, password=NEW_PASSWORD, username="chenjing").status_code == 201


def test_changing_the_password_needs_the_old_one_and_the_code_and_ends_other_sessions(app, client):
    register(client, UNKNOWN, "chenjing", PHONE)
    other, mine = login(client, "chenjing", PHONE), login(client, "chenjing", PHONE)
    wrong = client.put("/api/v1/accounts/me/password", headers=auth(mine),
                       json={"old_password": "not-it", "new_password": NEW_PASSWORD, "sms_code": "123456"})
    assert wrong.status_code == 401 and wrong.json["message"] == "原密码错误"
    client.post("/api/v1/accounts/me/sms-codes", headers=auth(mine), json={"purpose": "change_password"})
    changed = client.put("/api/v1/accounts/me/password", headers=auth(mine), json={
        "old_password": STRONG, "new_password": NEW_PASSWORD, "sms_code": last_code(client, PHONE)})
    assert changed.status_code == 200 and changed.json["sessions_ended"] == 1
    assert client.get("/api/v1/accounts/me", headers=auth(other)).status_code == 401
    assert client.get("/api/v1/accounts/me", headers=auth(mine)).status_code == 200
    assert count(app, "audit_event WHERE kind = 'account.password_changed'") == 1


def test_changing_the_phone_needs_the_new_phones_code(client):
    register(client, UNKNOWN, "chenjing", PHONE)
    token = login(client, "chenjing", PHONE)
    client.post("/api/v1/accounts/me/sms-codes", headers=auth(token),
                json={"purpose": "change_phone", "new_phone": "13700001111"})
    wrong = client.put("/api/v1/accounts/me/phone", headers=auth(token),
                       json={"new_phone": "13700001111", "sms_code": last_code(client, PHONE)})  # the old phone's code
    assert wrong.status_code == 400
    done = client.put("/api/v1/accounts/me/phone", headers=auth(token),
                      json={"new_phone": "13700001111", "sms_code": last_code(client, "13700001111")})
    assert done.status_code == 200 and done.json["phone"] == "137****1111"
    assert client.get("/api/v1/accounts/me", headers=auth(token)).json["phone"] == "137****1111"


def test_a_lost_phone_is_recovered_with_document_name_password_and_the_new_phones_code(client):
    register(client, UNKNOWN, "chenjing", PHONE)
    sent = client.post("/api/v1/accounts/sms-codes", json={"purpose": "recover_phone", "new_phone": "13700002222",
                                                           "human_check": solve(client)})
    assert sent.status_code == 201
    data = {**UNKNOWN, "password": "wrong-password-1", "new_phone": "13700002222",
            "sms_code": last_code(client, "13700002222")}
    refused = client.post("/api/v1/accounts/phone-recoveries", json=data)
    assert refused.status_code == 401 and refused.json["code"] == "login_failed"
    done = client.post("/api/v1/accounts/phone-recoveries", json={**data, "password": STRONG})
    assert done.status_code == 200 and done.json["phone"] == "137****2222"
    assert login(client, "chenjing", "13700002222")
