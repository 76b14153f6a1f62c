"""The citizen center against the Alipay sandbox gateway: auth code → Alipay user id through
alipay.system.oauth.token (signed by Alipay, checked by the SDK), refusals, and wap pay."""
from __future__ import annotations

import shutil
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from channels.alipay_citizen.adapter import build
from channels.base import START_REDIRECT, AuthFailed, AuthGrant, ChannelUnavailable, EntryRequest, OpenedPayment
from payments.sandbox import alipay as alipay_sandbox
from payments.sandbox.alipay.oauth import user_ids
from payments.sandbox.common import ServedApp


def citizen_channel(key_dir, url):
    kwargs = alipay_sandbox.sandbox_provider_settings(key_dir, url)
    return build(app_id=kwargs["app_id"], app_private_key=kwargs["app_private_key"],
                 alipay_public_key=kwargs["alipay_public_key"], gateway_url=kwargs["gateway_url"],
                 authorize_url=url + "/oauth2/publicAppAuthorize.htm", timeout_seconds=3.0)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    keys = tmp_path_factory.mktemp("alipay-citizen-keys")
    app = alipay_sandbox.create_sandbox_app(keys, time_scale=0.001)
    with ServedApp(app) as served:
        yield {"url": served.url, "keys": keys}
    alipay_sandbox.stop_sandbox(app)


@pytest.fixture
def channel(gateway):
    return citizen_channel(gateway["keys"], gateway["url"])


def issued_code(gateway, user: str) -> str:
    return requests.post(gateway["url"] + "/_control/oauth/codes", json={"user": user}, timeout=5).json()["code"]


def test_the_authorization_page_comes_back_with_an_auth_code_that_gives_the_alipay_user_id(channel):
    entry = channel.entry(EntryRequest("https://tax.example.cn/channels/alipay_citizen/callback", "st-1"))
    assert "scope=auth_base" in entry.url
    answer = requests.get(entry.url + "&sandbox_user=ivan", allow_redirects=False, timeout=5)
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["st-1"] and query["source"] == ["alipay_wallet"]
    user = channel.authenticate(AuthGrant(query["auth_code"][0]))
    assert user.user_id == user_ids("ivan")[0] and user.user_id.startswith("2088") and len(user.user_id) == 16
    assert channel.payer_ref(user) is None


def test_an_auth_code_works_once(channel, gateway):
    code = issued_code(gateway, "judy")
    channel.authenticate(AuthGrant(code))
    with pytest.raises(AuthFailed):
        channel.authenticate(AuthGrant(code))


def test_an_answer_signed_by_another_alipay_key_is_not_trusted(gateway, tmp_path):
    # an impostor gateway that knows our application key (so it accepts our request) but signs
    # its answers with a key of its own
    impostor_keys = tmp_path / "impostor"
    impostor_keys.mkdir()
    shutil.copy(gateway["keys"] / "alipay_merchant_private.pem", impostor_keys / "alipay_merchant_private.pem")
    app = alipay_sandbox.create_sandbox_app(impostor_keys, time_scale=0.001)
    with ServedApp(app) as impostor:
        channel = citizen_channel(gateway["keys"], impostor.url)
        code = requests.post(impostor.url + "/_control/oauth/codes", json={"user": "x"}, timeout=5).json()["code"]
        with pytest.raises(ChannelUnavailable) as refused:
            channel.authenticate(AuthGrant(code))
    alipay_sandbox.stop_sandbox(app)
    assert refused.value.reason == "answer_signature_invalid"


def test_a_gateway_in_trouble_is_unavailable(channel, gateway):
    code = issued_code(gateway, "ken")
    requests.post(gateway["url"] + "/_control/faults", json={"api_5xx": True}, timeout=5)
    try:
        with pytest.raises(ChannelUnavailable):
            channel.authenticate(AuthGrant(code))
    finally:
        requests.post(gateway["url"] + "/_control/faults", json={"api_5xx": False}, timeout=5)


def test_payment_starts_by_opening_the_wap_cashier_inside_alipay(channel):
    start = channel.start_payment(OpenedPayment("n1", "alipay.wap", 100, pay_url="https://gw/gateway.do?x=1"))
    assert (start.kind, start.url) == (START_REDIRECT, "https://gw/gateway.do?x=1")
