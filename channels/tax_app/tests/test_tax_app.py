"""The tax app channel alone: tickets bound to their state, menus of seeds 002 and 004, how payments start."""
from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from channels.base import AuthFailed, AuthGrant, EntryRequest, OpenedPayment, RequestRefused, find_menu_item
from channels.tax_app.adapter import build

SECRET = "shared-secret"


def ticket(account_id: str, state: str, secret: str = SECRET) -> str:
    body = f"{account_id}.{state}"
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return base64.urlsafe_b64encode(f"{body}.{mac}".encode()).decode().rstrip("=")


@pytest.fixture
def channel():
    return build(login_url="http://127.0.0.1:5000/accounts/login", ticket_secret=SECRET)


def test_the_entry_is_the_account_sign_in_page_with_the_state(channel):
    entry = channel.entry(EntryRequest("http://127.0.0.1:5000/channels/tax_app/callback", "st-1"))
    assert entry.kind == "account" and entry.url.startswith("http://127.0.0.1:5000/accounts/login?state=st-1")


def test_a_ticket_names_its_account_for_its_own_state_only(channel):
    assert channel.authenticate(AuthGrant(ticket("42", "st-1"), "st-1")).user_id == "account:42"
    for code, state in ((ticket("42", "st-1"), "st-2"), (ticket("42", "st-1", "other"), "st-1"), ("%%%", "st-1"),
                        (ticket("42", "st-1")[:-3], "st-1")):
        with pytest.raises(AuthFailed):
            channel.authenticate(AuthGrant(code, state))


def test_the_menus_follow_seeds_002_and_004(channel):
    menu = channel.menu()
    assert find_menu_item(menu, "flexible_resident").title == "灵活就业、居民社保费缴纳"
    assert [c.title for c in find_menu_item(menu, "flexible_resident").children] == [
        "缴费", "缴费档次或基数选择", "特殊缴费", "缴费记录"]
    assert find_menu_item(menu, "declare_and_pay").title == "社保费申报及缴纳"
    assert find_menu_item(menu, "certificates").title == "社保费完税证明"


def test_ccb_opens_the_banks_page_and_qr_codes_are_shown(channel):
    ccb = channel.start_payment(OpenedPayment("1", "ccb.card", 100, pay_url="http://bank/pay/1"))
    assert (ccb.kind, ccb.url) == ("redirect", "http://bank/pay/1")
    qr = channel.start_payment(OpenedPayment("2", "alipay.qr", 100, qr_code="https://qr.alipay.com/x"))
    assert (qr.kind, qr.url) == ("show_qr", "https://qr.alipay.com/x")
    with pytest.raises(RequestRefused):
        channel.start_payment(OpenedPayment("3", "alipay.qr", 100))
