"""City services against the WeChat sandbox: the entry needs the city chosen, the user is the
official account's openid, and payment is WeChat Pay JSAPI."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from channels.base import START_WECHAT_JSAPI, AuthGrant, EntryRequest, OpenedPayment, RequestRefused, lookback_menu, standard_menu
from channels.sandbox import wechat
from channels.wechat_city.adapter import build
from payments.sandbox.common import ServedApp


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return tmp_path_factory.mktemp("wechat-city-keys")


@pytest.fixture(scope="module")
def channel(keys):
    account = wechat.ensure_account(keys)
    with ServedApp(wechat.create_sandbox_app(keys)) as served:
        yield build(app_id=account.appid, secret=account.secret, api_base_url=served.url,
                    oauth_base_url=served.url + "/connect/", page_url_prefixes=["https://tax.example.cn/"],
                    timeout_seconds=3.0)


def test_the_entry_needs_the_city_chosen(channel):
    with pytest.raises(RequestRefused):
        channel.entry(EntryRequest("https://tax.example.cn/channels/wechat_city/callback", "s"))
    assert channel.needs_region


def test_the_user_is_the_openid_of_the_accounts_silent_oauth(channel, keys):
    entry = channel.entry(EntryRequest("https://tax.example.cn/channels/wechat_city/callback", "s-9", "520000"))
    answer = requests.get(entry.url.split("#")[0] + "&sandbox_user=heidi", allow_redirects=False, timeout=5)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    user = channel.authenticate(AuthGrant(code))
    assert (user.channel, user.user_id) == ("wechat_city", wechat.ensure_account(keys).openid_of("heidi"))
    assert channel.payer_ref(user) == user.user_id


def test_payment_is_wechat_pay_jsapi_and_the_menu_is_seed_002s_or_guizhous(channel):
    start = channel.start_payment(OpenedPayment("n1", "wechatpay.jsapi", 1, app_params={"package": "prepay_id=1"}))
    assert start.kind == START_WECHAT_JSAPI and channel.payment_methods == ("wechatpay.jsapi",)
    assert channel.menu() == standard_menu() + lookback_menu()
    assert [m.title for m in channel.menu()][:4] == ["缴费", "缴费档次或基数选择", "特殊缴费", "缴费记录"]
    assert [m.title for m in channel.menu("520000")] == ["自主缴费", "代他人缴费", "社保费申报查询", "完税证明查询"]
