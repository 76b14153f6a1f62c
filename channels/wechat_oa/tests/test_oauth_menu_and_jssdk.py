"""The official account's web side against the WeChat sandbox: silent OAuth to openid, the custom
menu (微服务 → 社保缴费), the JS-SDK signature, and WeChat Pay JSAPI started inside WeChat."""
from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from channels.base import (START_WECHAT_JSAPI, AuthFailed, AuthGrant, ChannelUnavailable, EntryRequest,
                           OpenedPayment, RequestRefused)
from channels.wechat_oa.tests.conftest import ENTRY, PAGES


def code_from_authorize_page(channel, user: str) -> str:
    entry = channel.entry(EntryRequest("https://tax.example.cn/channels/wechat_oa/callback", "s-1"))
    assert entry.url.endswith("#wechat_redirect") and "scope=snsapi_base" in entry.url
    answer = requests.get(entry.url.split("#")[0] + "&sandbox_user=" + user, allow_redirects=False, timeout=5)
    location = urlsplit(answer.headers["Location"])
    assert location.netloc == "tax.example.cn" and parse_qs(location.query)["state"] == ["s-1"]
    return parse_qs(location.query)["code"][0]


def test_the_code_from_silent_oauth_becomes_the_users_openid(channel, account):
    user = channel.authenticate(AuthGrant(code_from_authorize_page(channel, "alice")))
    assert user.channel == "wechat_oa" and user.user_id == account.openid_of("alice")
    assert channel.payer_ref(user) == user.user_id and user.display.endswith(user.user_id[-4:] + "）")


def test_a_code_works_once(channel):
    code = code_from_authorize_page(channel, "bob")
    channel.authenticate(AuthGrant(code))
    with pytest.raises(AuthFailed) as refused:
        channel.authenticate(AuthGrant(code))
    assert refused.value.reason == "code_used"


def test_a_platform_in_trouble_is_unavailable_not_a_refusal(channel, platform):
    code = code_from_authorize_page(channel, "carol")
    platform.set_faults(api_5xx=True)
    with pytest.raises(ChannelUnavailable):
        channel.authenticate(AuthGrant(code))


def test_the_menu_published_is_micro_services_then_social_insurance_payment(channel, platform):
    channel.publish_menu()
    menu = platform.state()["menu"]
    top = menu["button"][0]
    assert top["name"] == "微服务"
    assert top["sub_button"][0] == {"type": "view", "name": "社保缴费", "url": ENTRY}
    assert [b["name"] for b in top["sub_button"]] == ["社保缴费", "缴费记录", "缴费帮助"]


def test_the_js_sdk_signature_is_sha1_over_the_ticket_nonce_time_and_url(channel, platform):
    page = PAGES + "h5/wechat_oa/checkout?x=1"
    config = channel.page_config(page + "#frag")
    ticket = platform.state()["jsapi_ticket"]
    signed = f"jsapi_ticket={ticket}&noncestr={config['nonceStr']}&timestamp={config['timestamp']}&url={page}"
    assert config["signature"] == hashlib.sha1(signed.encode()).hexdigest()
    assert config["appId"] == channel.web.app_id


def test_an_access_token_wechat_no_longer_takes_is_fetched_again(channel, platform):
    channel.publish_menu()
    requests.post(platform.base_url + "/_control/tokens/expire", timeout=5)
    channel.publish_menu()  # answered 42001 at first: wechatpy fetches a new token and tries again
    assert platform.state()["tokens_issued"] == 2


def test_no_signature_for_pages_outside_the_js_sdk_domains(channel):
    with pytest.raises(RequestRefused):
        channel.page_config("https://elsewhere.example/pay")


def test_jsapi_starts_with_choose_wx_pay_parameters(channel):
    params = {"appId": "wx1", "timeStamp": "1", "nonceStr": "n", "package": "prepay_id=p", "signType": "RSA",
              "paySign": "s"}
    start = channel.start_payment(OpenedPayment("202611230001", "wechatpay.jsapi", 100, app_params=params))
    assert start.kind == START_WECHAT_JSAPI and start.params == params
    with pytest.raises(RequestRefused):
        channel.start_payment(OpenedPayment("202611230002", "alipay.wap", 100, pay_url="https://x"))
