"""云闪付 against the open-platform sandbox: the app's authorization code → openId through a
backend token, signed answers checked, the three menus with base voiding, and UnionPay QR
opened inside the app."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from channels.base import (AUTH_APP_SDK, MODULE_VOID_CHOICE, START_OPEN_QR_IN_APP, AuthFailed, AuthGrant,
                           ChannelUnavailable, EntryRequest, OpenedPayment, find_menu_item)
from channels.sandbox import unionpay_open
from channels.unionpay_app.adapter import build
from payments.sandbox.common import SandboxClient, ServedApp


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return tmp_path_factory.mktemp("unionpay-open-keys")


@pytest.fixture(scope="module")
def served(keys):
    with ServedApp(unionpay_open.create_sandbox_app(keys)) as platform:
        yield platform


@pytest.fixture
def platform(served):
    client = SandboxClient(served.url)
    client.reset()
    return client


def make_channel(keys, url, platform_public_key=None):
    account = unionpay_open.ensure_account(keys)
    return build(app_id=account.app_id, secret=account.secret, open_base_url=url, timeout_seconds=3.0,
                 platform_public_key=platform_public_key or str(account.platform_public_key_file))


@pytest.fixture
def channel(keys, served, platform):
    return make_channel(keys, served.url)


def issued_code(platform, user: str) -> str:
    return requests.post(platform.base_url + "/_control/oauth/codes", json={"user": user}, timeout=5).json()["code"]


def test_the_authorization_page_returns_a_code_that_becomes_the_users_open_id(channel, keys):
    entry = channel.entry(EntryRequest("https://tax.example.cn/channels/unionpay_app/callback", "st-7"))
    assert entry.kind == AUTH_APP_SDK and entry.params["scope"] == "upapi_base"
    answer = requests.get(entry.url + "&sandbox_user=leo", allow_redirects=False, timeout=5)
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["st-7"]
    user = channel.authenticate(AuthGrant(query["code"][0]))
    assert user.user_id == unionpay_open.ensure_account(keys).open_id_of("leo")
    assert channel.payer_ref(user) is None


def test_a_code_works_once(channel, platform):
    code = issued_code(platform, "mia")
    channel.authenticate(AuthGrant(code))
    with pytest.raises(AuthFailed):
        channel.authenticate(AuthGrant(code))


def test_the_backend_token_is_kept_and_fetched_again_when_the_platform_refuses_it(channel, platform):
    channel.authenticate(AuthGrant(issued_code(platform, "ned")))
    channel.authenticate(AuthGrant(issued_code(platform, "ned")))
    assert platform.state()["backend_tokens_issued"] == 1
    requests.post(platform.base_url + "/_control/tokens/expire", timeout=5)
    channel.authenticate(AuthGrant(issued_code(platform, "ned")))
    assert platform.state()["backend_tokens_issued"] == 2


def test_answers_signed_with_another_platform_key_are_not_trusted(keys, served, platform, tmp_path):
    other = unionpay_open.ensure_account(tmp_path)  # another key pair
    channel = make_channel(keys, served.url, platform_public_key=str(other.platform_public_key_file))
    with pytest.raises(ChannelUnavailable) as refused:
        channel.authenticate(AuthGrant(issued_code(platform, "olga")))
    assert refused.value.reason == "answer_signature_invalid"


def test_a_platform_in_trouble_is_unavailable(channel, platform):
    code = issued_code(platform, "pat")
    platform.set_faults(api_5xx=True)
    with pytest.raises(ChannelUnavailable):
        channel.authenticate(AuthGrant(code))


def test_the_three_menus_and_base_voiding_under_pension(channel):
    assert [m.title for m in channel.menu()][:3] == ["社保（养老）自助缴费", "医保（医疗）自助缴费", "社保（医保）费补缴"]
    void = find_menu_item(channel.menu(), "pension_void")
    assert void.module == MODULE_VOID_CHOICE and void.title == "基数作废" and void.filters == {"insurance": "pension"}
    assert find_menu_item(channel.menu(), "medical").filters == {"insurance": "medical"}


def test_unionpay_qr_is_opened_inside_the_app(channel):
    start = channel.start_payment(OpenedPayment("n1", "unionpay.qr", 100, qr_code="https://qr.95516.com/00010000/1"))
    assert start.kind == START_OPEN_QR_IN_APP and start.url == "https://qr.95516.com/00010000/1"
