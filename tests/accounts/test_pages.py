"""The account pages: CSRF on every form, a new cookie session at sign-in (no fixation), and the way
from the tax app's entry through sign-in, the second factor and the consent back into the channel."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.accounts.support import STRONG, UNKNOWN, ZHANG, count, last_code, phone_of_record, register, solve

PHONE = "13922223333"
FORMS = ["/accounts/login", "/accounts/login/verify", "/accounts/consent", "/accounts/register",
         "/accounts/register/some-id", "/accounts/logout"]


def csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def sign_in(client, username="chenjing", phone=PHONE, consent=True, password=STRONG):
    page = client.get("/accounts/login")
    answer = client.post("/accounts/login", data={"csrf_token": csrf(page), "kind": "username", "identifier": username,
                                                  "password": password, "human_check": solve(client)})
    assert answer.status_code == 302 and answer.location.endswith("/accounts/login/verify"), answer.get_data(True)
    page = client.get("/accounts/login/verify")
    assert "139****3333" in page.get_data(as_text=True) or phone != PHONE
    done = client.post("/accounts/login/verify", data={"csrf_token": csrf(page), "sms_code": last_code(client, phone)})
    assert done.status_code == 302
    if consent and done.location.endswith("/accounts/consent"):
        page = client.get("/accounts/consent")
        done = client.post("/accounts/consent", data={"csrf_token": csrf(page), "agree": "1", "version": "2026.1"})
    return done


@pytest.mark.parametrize("path", FORMS)
def test_every_account_form_refuses_a_post_without_its_csrf_token(app, client, path):
    register(client, UNKNOWN, "chenjing", PHONE)
    before = count(app, "audit_event")
    refused = client.post(path, data={"kind": "username", "identifier": "chenjing", "password": STRONG,
                                      "human_check": solve(client), "agree": "1"})
    assert refused.status_code == 400 and "页面已过期，请返回重新操作" in refused.get_data(as_text=True)
    assert count(app, "audit_event") == before and not client.get(f"/sandbox/sms/api/{PHONE}").json[0]["text"].count(
        "登录")


def test_a_wrong_token_is_refused_as_well(client):
    client.get("/accounts/login")
    refused = client.post("/accounts/login", data={"csrf_token": "forged", "identifier": "x", "password": "y"})
    assert refused.status_code == 400


def test_signing_in_starts_a_new_cookie_session_and_the_old_one_gains_nothing(app, client):
    register(client, UNKNOWN, "chenjing", PHONE)
    client.get("/accounts/login")
    planted = client.get_cookie("session").value  # what an attacker could have fixed in the victim's browser
    assert sign_in(client).location.endswith("/accounts/me")
    assert client.get_cookie("session").value != planted
    attacker = app.test_client()
    attacker.set_cookie("session", planted)
    assert attacker.get("/accounts/me").location.endswith("/accounts/login")
    assert "我的信息" in client.get("/accounts/me").get_data(as_text=True)


def test_a_wrong_sms_code_on_the_page_is_answered_beside_the_field(client):
    register(client, UNKNOWN, "chenjing", PHONE)
    page = client.get("/accounts/login")
    client.post("/accounts/login", data={"csrf_token": csrf(page), "kind": "username", "identifier": "chenjing",
                                         "password": STRONG, "human_check": solve(client)})
    page = client.get("/accounts/login/verify")
    wrong = client.post("/accounts/login/verify", data={"csrf_token": csrf(page), "sms_code": "000000"})
    assert wrong.status_code == 400 and "短信验证码错误或已失效" in wrong.get_data(as_text=True)


def test_the_tax_app_entry_signs_in_and_comes_back_to_the_channel_pages(app, client, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    phone = phone_of_record(app, ZHANG)
    register(client, ZHANG, "zhangwei", phone)
    start = client.get("/channels/tax_app/start")
    login_url = urlparse(start.location)
    assert login_url.path == "/accounts/login"
    state = parse_qs(login_url.query)["state"][0]
    client.get(f"{login_url.path}?{login_url.query}")
    back = sign_in(client, "zhangwei", phone)
    callback = urlparse(back.location)
    assert callback.path == "/channels/tax_app/callback" and parse_qs(callback.query)["state"] == [state]
    landed = client.get(f"{callback.path}?{callback.query}")
    assert landed.status_code == 302 and landed.location.endswith("/h5/tax_app/")
    with client.session_transaction() as s:
        assert s["channel"] == "tax_app" and s["channel_user"].startswith("account:")
    replay = app.test_client().get(f"{callback.path}?{callback.query}")  # the ticket and its state are good once
    assert replay.status_code == 401


def test_a_forged_ticket_opens_no_channel_session(client):
    start = client.get("/channels/tax_app/start")
    state = parse_qs(urlparse(start.location).query)["state"][0]
    refused = client.get(f"/channels/tax_app/callback?code=MS5mb3JnZWQuMDA&state={state}")
    assert refused.status_code == 401 and "渠道授权已失效" in refused.get_data(as_text=True)  # the channel's error page


def test_the_tax_app_home_shows_the_menus_of_seeds_002_and_004_behind_the_sign_in(client):
    page = client.get("/tax-app/").get_data(as_text=True)
    for title in ("办税", "个人办税", "灵活就业、居民社保费缴纳", "公众查询", "社保费完税证明", "社保", "申报及缴纳",
                  "社保费申报及缴纳", "参保信息查询", "社保费完税证明查验"):
        assert title in page
    assert re.search(r'href="/h5/tax_app/" id="menu-declare_and_pay"', page)  # not signed in: the entry first
    with client.session_transaction() as s:
        s.update(channel="tax_app", channel_user="account:1")
    page = client.get("/tax-app/").get_data(as_text=True)
    assert re.search(r'href="/h5/tax_app/enrollments\?module=pay" id="menu-declare_and_pay"', page)


def test_forgot_password_and_user_management_pages_work_and_refuse_without_csrf(app, client):
    register(client, UNKNOWN, "chenjing", PHONE)
    page = client.get("/accounts/password/forgot")
    sent = client.post("/accounts/password/forgot", data={"csrf_token": csrf(page), "action": "send_code",
                                                          "kind": "username", "identifier": "chenjing",
                                                          "human_check": solve(client)})
    assert "如账户存在且已绑定手机号码" in sent.get_data(as_text=True)
    done = client.post("/accounts/password/forgot", data={
        "csrf_token": csrf(page), "action": "reset", "kind": "username", "identifier": "chenjing",
        "sms_code": last_code(client, PHONE), "new_password": "Brand-New-Pass-2026"})
    assert done.status_code == 302 and done.location.endswith("/accounts/login")
    sign_in(client, password="Brand-New-Pass-2026")
    page = client.get("/accounts/settings")
    assert "139****3333" in page.get_data(as_text=True)
    client.post("/accounts/settings", data={"csrf_token": csrf(page), "action": "phone_code", "new_phone": "13700003333"})
    changed = client.post("/accounts/settings", data={"csrf_token": csrf(page), "action": "phone",
                                                      "new_phone": "13700003333",
                                                      "sms_code": last_code(client, "13700003333")})
    assert changed.status_code == 302
    assert "137****3333" in client.get("/accounts/settings").get_data(as_text=True)
    for path in ("/accounts/password/forgot", "/accounts/phone/recover", "/accounts/settings"):
        assert client.post(path, data={"action": "phone", "new_phone": "13700004444"}).status_code == 400
