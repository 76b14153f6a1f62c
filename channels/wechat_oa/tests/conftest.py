"""Fixtures: the WeChat platform sandbox and the official-account channel pointed at it, and the
channel's message endpoint served on its own port (WeChat's server calls it over HTTP)."""
from __future__ import annotations

import pytest
from flask import Flask, Response, request

from channels.base import InboundMessage
from channels.sandbox import wechat
from channels.sandbox.wechat_server import WeChatServer
from channels.wechat_oa.adapter import build
from payments.sandbox.common import SandboxClient, ServedApp

ENTRY = "https://tax.example.cn/channels/wechat_oa/start"
PAGES = "https://tax.example.cn/"


@pytest.fixture(scope="session")
def wechat_keys(tmp_path_factory):
    return tmp_path_factory.mktemp("wechat-keys")


@pytest.fixture(scope="session")
def wechat_platform(wechat_keys):
    with ServedApp(wechat.create_sandbox_app(wechat_keys)) as served:
        yield served


@pytest.fixture
def platform(wechat_platform):
    SandboxClient(wechat_platform.url).reset()
    return SandboxClient(wechat_platform.url)


@pytest.fixture
def account(wechat_keys):
    return wechat.ensure_account(wechat_keys)


def make_channel(account, platform_url: str, encrypted: bool = True):
    return build(app_id=account.appid, secret=account.secret, token=account.token,
                 encoding_aes_key=account.encoding_aes_key if encrypted else None, entry_url=ENTRY,
                 page_url_prefixes=[PAGES], api_base_url=platform_url,
                 oauth_base_url=platform_url + "/connect/", timeout_seconds=3.0)


@pytest.fixture
def channel(account, platform, wechat_platform):
    return make_channel(account, wechat_platform.url)


@pytest.fixture(scope="session")
def endpoint(wechat_keys, wechat_platform):
    """The channel's message endpoint, as our app mounts it, on a port of its own."""
    channel = make_channel(wechat.ensure_account(wechat_keys), wechat_platform.url)
    app = Flask(__name__)

    @app.route("/message", methods=["GET", "POST"])
    def message():
        reply = channel.handle_message(InboundMessage(request.method, request.args.to_dict(), request.get_data()))
        return Response(reply.body, status=reply.status, content_type=reply.content_type)

    with ServedApp(app) as served:
        yield served.url + "/message"


@pytest.fixture
def server(account, endpoint):
    return WeChatServer(account, endpoint)
