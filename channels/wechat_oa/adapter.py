"""The official account (公众号, e.g. 青岛税务 / 贵州税务) as a channel.

Settings, the keyword arguments of ``build``:

    app_id, secret            the account's AppID and AppSecret
    token                     the message Token (服务器配置)
    encoding_aes_key          EncodingAESKey, for encrypted (安全) mode; empty: plain mode only
    entry_url                 our entry (…/channels/wechat_oa/start): menus and replies link to it
    page_url_prefixes         pages allowed a JS-SDK signature (the JS接口安全域名 pages)
    api_base_url              default https://api.weixin.qq.com
    oauth_base_url            default https://open.weixin.qq.com/connect/
    token_store_url           Redis URL caching the access token and ticket; empty: in memory
    timeout_seconds           HTTP timeout, default 5

The user is the openid silent OAuth (snsapi_base) gives; WeChat Pay JSAPI pays with it.
``WeChatPageChannel`` is what every WeChat web entry shares (OAuth, JSAPI, JS-SDK, menus);
the city services (``channels/wechat_city``) are built on it too. 贵州's account shows its own
function list (seed 003) to payers of that region; the others show seed 002's modules.
"""
from __future__ import annotations

from typing import Mapping

from app.domain.labels import CHANNEL_LABELS
from channels.base import (AUTH_OAUTH, GUIZHOU, START_WECHAT_JSAPI, AuthGrant, ChannelUser, Entry, EntryRequest,
                           InboundMessage, MenuItem, MessageReply, OpenedPayment, PaymentStart, RequestRefused,
                           guizhou_menu, lookback_menu, standard_menu)
from channels.wechat_oa.menu import menu_definition, reply_to
from channels.wechat_oa.messages import MessageDesk
from channels.wechat_oa.wechat_api import API_BASE_URL, OAUTH_BASE_URL, WeChatWeb

JSAPI = "wechatpay.jsapi"


def wechat_display(openid: str) -> str:
    return f"微信用户（…{openid[-4:]}）"


def start_jsapi(payment: OpenedPayment) -> PaymentStart:
    """WeChat Pay JSAPI inside WeChat's browser: chooseWXPay with the prepay's parameters."""
    if payment.method != JSAPI or not payment.app_params:
        raise RequestRefused("method_not_startable", f"{payment.method} cannot start inside WeChat")
    # pay_url, when the provider gives one, is a cashier page for browsers outside WeChat
    return PaymentStart(START_WECHAT_JSAPI, url=payment.pay_url, params=dict(payment.app_params))


class WeChatPageChannel:
    """A WeChat web entry: the account's silent OAuth to openid, JS-SDK, WeChat Pay JSAPI, the menus."""

    code = "wechat_oa"
    title = CHANNEL_LABELS["wechat_oa"]
    auth_kind = AUTH_OAUTH
    needs_region = False
    payment_methods = (JSAPI,)

    def __init__(self, web: WeChatWeb):
        self.web = web

    def entry(self, request: EntryRequest) -> Entry:
        return Entry(AUTH_OAUTH, url=self.web.authorize_url(request.redirect_uri, request.state))

    def authenticate(self, grant: AuthGrant) -> ChannelUser:
        openid = self.web.openid_for_code(grant.code)
        return ChannelUser(self.code, openid, display=wechat_display(openid))

    def payer_ref(self, user: ChannelUser) -> str | None:
        return user.user_id  # JSAPI needs the openid of this account's user

    def start_payment(self, payment: OpenedPayment) -> PaymentStart:
        return start_jsapi(payment)

    def menu(self, region: str | None = None) -> tuple[MenuItem, ...]:
        if region and region[:2] == GUIZHOU[:2]:
            return guizhou_menu()
        return standard_menu() + lookback_menu()

    def page_config(self, url: str) -> Mapping[str, object]:
        return self.web.jssdk_config(url)


class WeChatOAChannel(WeChatPageChannel):
    """公众号: the WeChat entry plus the message endpoint and the custom menu."""

    def __init__(self, web: WeChatWeb, desk: MessageDesk, entry_url: str):
        super().__init__(web)
        self._desk = desk
        self.entry_url = entry_url

    def handle_message(self, message: InboundMessage) -> MessageReply:
        return self._desk.handle(message)

    def custom_menu(self) -> dict:
        """The custom menu as WeChat takes it (微服务 → 社保缴费)."""
        return menu_definition(self.entry_url)

    def publish_menu(self) -> dict:
        """Create the custom menu at WeChat; answers what was published."""
        menu = self.custom_menu()
        self.web.create_menu(menu)
        return menu


def build(*, app_id: str, secret: str, token: str, entry_url: str, encoding_aes_key: str | None = None,
          page_url_prefixes: tuple[str, ...] | list[str] = (), api_base_url: str = API_BASE_URL,
          oauth_base_url: str = OAUTH_BASE_URL, token_store_url: str | None = None,
          timeout_seconds: float = 5.0) -> WeChatOAChannel:
    """The official-account channel from plain settings (see the module docstring)."""
    web = WeChatWeb(app_id=app_id, secret=secret, api_base_url=api_base_url, oauth_base_url=oauth_base_url,
                    timeout_seconds=timeout_seconds, token_store_url=token_store_url,
                    page_url_prefixes=tuple(page_url_prefixes))
    desk = MessageDesk(token=token, app_id=app_id, encoding_aes_key=encoding_aes_key or None,
                       reply_to=lambda message: reply_to(message, entry_url))
    return WeChatOAChannel(web, desk, entry_url)
