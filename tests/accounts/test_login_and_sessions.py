"""Sign-in (seed 000: username, phone or document + password, then an SMS code) and its sessions: every
abuse the issue lists answered in Chinese with nothing changed, and no account enumeration."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.accounts.support import (STRONG, UNKNOWN, ZHANG, count, last_code, login, register, registration,
                                   send_register_code, solve, start_login)

ME = "/api/v1/accounts/me"
SECOND = "/api/v1/accounts/logins/second-factor"
PHONE = "13922223333"


@pytest.fixture
def account(client):
    register(client, UNKNOWN, "chenjing", PHONE)
    return "chenjing"


def auth(token):
    return {"X-Account-Token": token}


def test_sign_in_by_username_phone_or_document_then_the_sms_code(client, account):
    for who in ({"username": "chenjing"}, {"kind": "phone", "phone": PHONE},
                {"kind": "document", "id_type": UNKNOWN["id_type"], "id_number": UNKNOWN["id_number"]}):
        first = start_login(client, **who)
        assert first.status_code == 201 and first.json["sent_to"] == "139****3333", first.json
        second = client.post(SECOND, json={"challenge": first.json["challenge"], "sms_code": last_code(client, PHONE)})
        assert second.status_code == 201 and second.json["consent_required"] is True


def test_first_login_asks_for_the_privacy_consent_and_records_its_version(app, client, account):
    token = login(client, "chenjing", PHONE, consent=False)
    refused = client.get(ME, headers=auth(token))
    assert refused.status_code == 403 and refused.json["message"] == "请先阅读并同意《个人信息保护告知同意书》"
    outdated = client.post("/api/v1/accounts/me/consents", headers=auth(token), json={"version": "2020.1"})
    assert outdated.status_code == 400 and outdated.json["code"] == "consent_version_outdated"
    assert client.post("/api/v1/accounts/me/consents", headers=auth(token), json={"version": "2026.1"}).json == {
        "document": "个人信息保护告知同意书", "version": "2026.1"}
    assert client.get(ME, headers=auth(token)).status_code == 200
    assert count(app, "account_consent WHERE version = '2026.1'") == 1
    second = login(client, "chenjing", PHONE, consent=False)
    assert client.get(ME, headers=auth(second)).status_code == 200  # asked once


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(client, account):
    wrong = start_login(client, password="Wrong-password-123", username="chenjing")
    unknown = start_login(client, username="nobody_here")
    bad_shape = start_login(client, kind="phone", phone="12")
    assert wrong.status_code == unknown.status_code == bad_shape.status_code == 401
    assert wrong.json == unknown.json == bad_shape.json == {
        "code": "login_failed", "status": 401, "message": "账号或密码错误", "errors": {"password": ["账号或密码错误"]}}
    assert client.get(f"/sandbox/sms/api/{PHONE}").json[0]["text"].count("注册")  # no login code went out


def test_too_many_wrong_passwords_lock_the_account_identifier_even_for_the_right_one(client, account):
    for _ in range(5):
        assert start_login(client, password="Wrong-password-123", username="chenjing").status_code == 401
    locked = start_login(client, username="chenjing")
    assert locked.status_code == 429 and locked.json["message"] == "登录失败次数过多，请稍后再试"
    unknown = [start_login(client, username="nobody_here").status_code for _ in range(6)]
    assert unknown == [401] * 5 + [429]  # unknown names are limited alike: nothing to tell them apart


def test_the_human_check_is_required_and_good_once(client, account):
    missing = client.post("/api/v1/accounts/logins", json={"username": "chenjing", "password": STRONG})
    assert missing.status_code == 400 and missing.json["code"] == "human_check_failed"
    payload = solve(client)
    data = {"username": "chenjing", "password": STRONG, "human_check": payload}
    assert client.post("/api/v1/accounts/logins", json=data).status_code == 201
    replayed = client.post("/api/v1/accounts/logins", json=data)
    assert replayed.status_code == 400 and replayed.json["message"] == "请先完成人机验证"


def _challenge(client):
    return start_login(client, username="chenjing").json["challenge"]


def test_a_wrong_sms_code_is_refused_and_the_right_one_still_works(client, account):
    challenge = _challenge(client)
    wrong = client.post(SECOND, json={"challenge": challenge, "sms_code": "000000"})
    assert wrong.status_code == 400 and wrong.json["message"] == "短信验证码错误或已失效，请重新输入"
    assert client.post(SECOND, json={"challenge": challenge, "sms_code": last_code(client, PHONE)}).status_code == 201


def test_an_sms_code_is_good_once(client, account):
    challenge, code = _challenge(client), None
    code = last_code(client, PHONE)
    assert client.post(SECOND, json={"challenge": challenge, "sms_code": code}).status_code == 201
    replay = client.post(SECOND, json={"challenge": challenge, "sms_code": code})
    assert replay.status_code == 401 and replay.json["code"] == "login_challenge_expired"
    other = _challenge(client)
    stale = client.post(SECOND, json={"challenge": other, "sms_code": code})  # the old code, a new sign-in
    assert stale.status_code == 400 and stale.json["code"] == "sms_code_invalid"


def test_an_sms_code_lasts_five_minutes(app, client, clock, account):
    challenge = _challenge(client)
    clock.set(clock.now() + timedelta(minutes=4, seconds=50))
    assert client.post(SECOND, json={"challenge": challenge, "sms_code": last_code(client, PHONE)}).status_code == 201
    send_register_code(client, "13966667777")
    clock.set(clock.now() + timedelta(minutes=5))
    expired = client.post("/api/v1/accounts/registrations", json=registration(
        ZHANG, "zhangwei", "13966667777", sms_code=last_code(client, "13966667777")))
    assert expired.status_code == 400 and expired.json["code"] == "sms_code_expired"
    assert expired.json["message"] == "短信验证码已过期，请重新获取" and count(app, "account") == 1


def test_an_expired_sign_in_challenge_is_refused(client, clock, account):
    challenge = _challenge(client)
    clock.set(clock.now() + timedelta(minutes=6))
    late = client.post(SECOND, json={"challenge": challenge, "sms_code": last_code(client, PHONE)})
    assert late.status_code == 401 and late.json["message"] == "登录已超时，请重新输入账号和密码"


def test_five_wrong_codes_kill_the_code_and_the_sign_in(client, account):
    challenge = _challenge(client)
    answers = [client.post(SECOND, json={"challenge": challenge, "sms_code": "000000"}).status_code for _ in range(5)]
    assert answers == [400, 400, 400, 400, 429]
    dead = client.post(SECOND, json={"challenge": challenge, "sms_code": last_code(client, PHONE)})
    assert dead.status_code == 401


def test_sms_sends_are_limited_per_phone_per_minute_and_per_day(client, clock, account):
    sends = [start_login(client, username="chenjing").status_code for _ in range(4)]
    assert sends == [201, 201, 201, 429]  # three a minute in the test settings (one in production)


def test_the_daily_count_of_codes_per_phone_follows_the_clock(app, client, clock):
    deps = app.extensions["sbf"].accounts
    from dataclasses import replace

    deps.settings = replace(deps.settings, sms_limit_per_phone="100 per minute", codes_per_phone_per_day=3)
    from app.services.account_codes import send_code
    from app.domain.errors import TooManyAttempts

    for _ in range(3):
        send_code("register", "13955556666", deps)
    with pytest.raises(TooManyAttempts):
        send_code("register", "13955556666", deps)
    clock.set(clock.now() + timedelta(days=1))
    assert send_code("register", "13955556666", deps)["sent_to"] == "139****6666"


def test_a_session_ends_after_thirty_idle_minutes(client, clock, account):
    token = login(client, "chenjing", PHONE)
    clock.set(clock.now() + timedelta(minutes=29))
    assert client.get(ME, headers=auth(token)).status_code == 200
    clock.set(clock.now() + timedelta(minutes=30))
    expired = client.get(ME, headers=auth(token))
    assert expired.status_code == 401 and expired.json["message"] == "登录已超时，请重新登录"


def test_a_session_ends_after_eight_hours_however_busy(client, clock, account):
    token = login(client, "chenjing", PHONE)
    for _ in range(23):
        clock.set(clock.now() + timedelta(minutes=20))
        assert client.get(ME, headers=auth(token)).status_code == 200
    clock.set(clock.now() + timedelta(minutes=20))
    assert client.get(ME, headers=auth(token)).status_code == 401


def test_signing_in_again_rotates_the_token_and_logout_revokes_it(client, account):
    old = login(client, "chenjing", PHONE)
    new = login(client, "chenjing", PHONE, consent=False, headers=auth(old))
    assert new != old
    assert client.get(ME, headers=auth(old)).status_code == 401  # the token held before signing in is dead
    assert client.delete("/api/v1/accounts/sessions/current", headers=auth(new)).status_code == 204
    assert client.get(ME, headers=auth(new)).status_code == 401


def test_sign_in_events_are_in_the_audit_log(app, client, account):
    start_login(client, password="Wrong-password-123", username="chenjing")
    login(client, "chenjing", PHONE)
    kinds = {k for k in ("account.registered", "account.login_failed", "account.login", "account.consent")
             if count(app, f"audit_event WHERE kind = '{k}'")}
    assert kinds == {"account.registered", "account.login_failed", "account.login", "account.consent"}
