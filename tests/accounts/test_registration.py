"""Registration (seeds 000, 004): the real-name match, the identity check when the phone is not the one
on record, a phone that moves to whoever proves it, and every refusal with nothing changed."""
from __future__ import annotations

import pytest

from tests.accounts.support import (STRONG, UNKNOWN, ZHANG, count, last_code, login, phone_of_record, register,
                                    registration, send_register_code, solve)

ME = "/api/v1/accounts/me"


@pytest.fixture
def demo(runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0


def test_a_known_person_with_the_phone_on_record_registers_at_once_and_sees_their_enrollments(app, client, demo):
    phone = phone_of_record(app, ZHANG)
    assert register(client, ZHANG, "zhangwei", phone) == {"status": "registered", "username": "zhangwei"}
    token = login(client, "zhangwei", phone)
    me = client.get(ME, headers={"X-Account-Token": token}).json
    assert me["name"] == "张*" and me["id_number"] == "3702**********0013" and me["known_person"]
    assert {e["insurance"] for e in me["enrollments"]} == {"pension", "medical"}


def test_another_phone_needs_the_identity_check_and_waits_for_it(client, demo):
    assert send_register_code(client, "13911112222").status_code == 201
    answer = client.post("/api/v1/accounts/registrations", json=registration(
        ZHANG, "zhangwei", "13911112222", sms_code=last_code(client, "13911112222"))).json
    assert answer["status"] == "identity_check_required" and "/sandbox/identity/checks/" in answer["check_url"]
    waiting = client.post(f"/api/v1/accounts/registrations/{answer['registration_id']}/completion")
    assert waiting.status_code == 409 and waiting.json["code"] == "identity_check_pending"
    check_id = answer["check_url"].rsplit("/", 1)[1]
    client.post(f"/sandbox/identity/api/checks/{check_id}", json={"outcome": "passed"})
    done = client.post(f"/api/v1/accounts/registrations/{answer['registration_id']}/completion")
    assert done.status_code == 201 and done.json["status"] == "registered"
    again = client.post(f"/api/v1/accounts/registrations/{answer['registration_id']}/completion")
    assert again.status_code == 404 and again.json["code"] == "registration_expired"


def test_a_failed_identity_check_creates_no_account(app, client, demo):
    answer = register(client, ZHANG, "zhangwei", "13911112222", pass_check=False)
    client.post(f"/sandbox/identity/api/checks/{answer['check_url'].rsplit('/', 1)[1]}", json={"outcome": "failed"})
    refused = client.post(f"/api/v1/accounts/registrations/{answer['registration_id']}/completion")
    assert refused.status_code == 403 and refused.json["message"].startswith("人脸识别认证未通过")
    assert count(app, "account") == 0


def test_a_person_the_bureaus_do_not_know_registers_but_sees_no_enrollments(client, demo):
    register(client, UNKNOWN, "chenjing", "13922223333")
    me = client.get(ME, headers={"X-Account-Token": login(client, "chenjing", "13922223333")}).json
    assert me["known_person"] is False and me["enrollments"] == []


def test_the_name_must_match_the_document_on_record(app, client, demo):
    assert send_register_code(client, "13911112222").status_code == 201
    refused = client.post("/api/v1/accounts/registrations", json=registration(
        {**ZHANG, "name": "张三"}, "zhangwei", "13911112222", sms_code=last_code(client, "13911112222")))
    assert refused.status_code == 400 and refused.json["code"] == "name_mismatch"
    assert count(app, "account") == 0


def test_a_phone_reused_by_a_new_registration_is_cleared_from_the_old_account(app, client, demo):
    register(client, UNKNOWN, "chenjing", "13922223333")
    register(client, ZHANG, "zhangwei", "13922223333")  # proves the same phone by its code
    refused = client.post("/api/v1/accounts/logins", json={"kind": "username", "username": "chenjing",
                                                           "password": STRONG, "human_check": solve(client)})
    assert refused.status_code == 403 and refused.json["code"] == "phone_missing"
    phone_login = client.post("/api/v1/accounts/logins", json={"kind": "phone", "phone": "13922223333",
                                                               "password": STRONG, "human_check": solve(client)})
    assert phone_login.status_code == 201  # the phone now signs in 张伟's account
    assert count(app, "audit_event WHERE kind = 'account.phone_cleared'") == 1


@pytest.mark.parametrize("change, code", [
    ({"username": "zhangwei"}, "username_taken"),
    ({"username": "other_name"}, "document_registered"),
])
def test_a_taken_username_or_a_registered_document_is_refused_and_the_code_survives(app, client, demo, change, code):
    phone = phone_of_record(app, ZHANG)
    register(client, ZHANG, "zhangwei", phone)
    who = ZHANG if code == "document_registered" else UNKNOWN
    send_register_code(client, "13933334444")
    sms = last_code(client, "13933334444")
    refused = client.post("/api/v1/accounts/registrations",
                          json=registration(who, phone="13933334444", sms_code=sms, **change))
    assert refused.status_code == 409 and refused.json["code"] == code and refused.json["message"]
    assert count(app, "account") == 1
    ok = client.post("/api/v1/accounts/registrations",
                     json=registration(UNKNOWN, "chenjing", "13933334444", sms_code=sms))
    assert ok.status_code == 201  # the code was not spent by the refusal


def test_a_phone_used_by_another_account_stays_there_when_its_code_is_not_proven(app, client, demo):
    register(client, UNKNOWN, "chenjing", "13922223333")
    refused = client.post("/api/v1/accounts/registrations",
                          json=registration(ZHANG, "zhangwei", "13922223333", sms_code="000000"))
    assert refused.status_code == 400 and refused.json["code"] == "sms_code_invalid"
    assert count(app, "account WHERE phone_index IS NOT NULL") == 1 and count(app, "account") == 1


@pytest.mark.parametrize("password", ["password123", "zhangwei1985", "13911112222", "Aa1!"])
def test_weak_passwords_are_refused_with_a_hint(app, client, demo, password):
    send_register_code(client, "13911112222")
    refused = client.post("/api/v1/accounts/registrations", json=registration(
        ZHANG, "zhangwei", "13911112222", password=password, sms_code=last_code(client, "13911112222")))
    assert refused.status_code == 400 and refused.json["code"] in ("password_weak", "password_length")
    assert "密码" in refused.json["message"] and count(app, "account") == 0


@pytest.mark.parametrize("change, code", [({"agreed": False}, "agreement_required"), ({"gender": ""}, "gender_required"),
                                          ({"id_number": "370202198503150014"}, "id_check_digit_invalid"),
                                          ({"username": "12345"}, "username_format"), ({"phone": "2345"}, "phone_format"),
                                          ({"id_type": "driving_licence"}, "id_type_unknown")])
def test_a_form_with_a_bad_field_names_the_field_in_chinese(app, client, demo, change, code):
    refused = client.post("/api/v1/accounts/registrations",
                          json={**registration(ZHANG, "zhangwei", "13911112222", sms_code="123456"), **change})
    assert refused.status_code == 400 and refused.json["code"] == code and refused.json["errors"]
    assert count(app, "account") == 0


def test_every_document_type_of_the_web_bureau_list_can_register(client):
    types = client.get("/api/v1/accounts/id-types").json
    assert len(types) == 11 and types[0] == {"code": "resident_id", "label": "居民身份证"}
    assert {"code": "foreign_work_permit_c", "label": "中华人民共和国外国人工作许可证（C类）"} in types
    send_register_code(client, "13944445555")
    answer = client.post("/api/v1/accounts/registrations", json=registration(
        {"name": "John Smith", "id_type": "foreign_work_permit_b", "id_number": "WP123456789"}, "jsmith", "13944445555",
        nationality="GBR", sms_code=last_code(client, "13944445555")))
    assert answer.status_code == 201 and answer.json["status"] == "identity_check_required"
