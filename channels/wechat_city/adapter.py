"""City services (微信城市服务) as a channel.

A citizen opens 城市服务 in WeChat, picks a city and the service 社保费缴纳; the service's URL
names the region (统筹区) chosen, and the core keeps it with the entry, so every page after
authorization works in that region. Authorization is the tax bureau's official account's
silent OAuth (the service pages are hosted under that account), so the user is the same
openid and WeChat Pay JSAPI pays with it.

Settings, the keyword arguments of ``build``: as ``channels.wechat_oa.adapter.build`` without
the message Token and EncodingAESKey (city services send no messages).
"""
from __future__ import annotations

from typing import Mapping

from channels.base import (AUTH_OAUTH, AuthGrant, ChannelUser, Entry, EntryRequest, MenuItem, OpenedPayment,
                           PaymentStart, RequestRefused, standard_menu)
from channels.wechat_oa.adapter import JSAPI, start_jsapi, wechat_display
from channels.wechat_oa.wechat_api import API_BASE_URL, OAUTH_BASE_URL, WeChatWeb


class WeChatCityChannel:
    """城市服务: the region chosen at entry, the account's OAuth, WeChat Pay JSAPI."""

    code = "wechat_city"
    title = "微信城市服务"
    auth_kind = AUTH_OAUTH
    needs_region = True
    payment_methods = (JSAPI,)

    def __init__(self, web: WeChatWeb):
        self.web = web

    def entry(self, request: EntryRequest) -> Entry:
        if not request.region:
            raise RequestRefused("region_required", "city services enter with a region")
        return Entry(AUTH_OAUTH, url=self.web.authorize_url(request.redirect_uri, request.state))

    def authenticate(self, grant: AuthGrant) -> ChannelUser:
        openid = self.web.openid_for_code(grant.code)
        return ChannelUser(self.code, openid, display=wechat_display(openid))

    def payer_ref(self, user: ChannelUser) -> str | None:
        return user.user_id

    def start_payment(self, payment: OpenedPayment) -> PaymentStart:
        return start_jsapi(payment)

    def menu(self) -> tuple[MenuItem, ...]:
        return standard_menu()

    def page_config(self, url: str) -> Mapping[str, object]:
        return self.web.jssdk_config(url)


def build(*, app_id: str, secret: str, page_url_prefixes: tuple[str, ...] | list[str] = (),
          api_base_url: str = API_BASE_URL, oauth_base_url: str = OAUTH_BASE_URL,
          token_store_url: str | None = None, timeout_seconds: float = 5.0) -> WeChatCityChannel:
    """The city-services channel from plain settings."""
    return WeChatCityChannel(WeChatWeb(app_id=app_id, secret=secret, api_base_url=api_base_url,
                                       oauth_base_url=oauth_base_url, timeout_seconds=timeout_seconds,
                                       token_store_url=token_store_url, page_url_prefixes=tuple(page_url_prefixes)))
