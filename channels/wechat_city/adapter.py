"""City services (微信城市服务) as a channel: the 公众号's WeChat entry, entered from a chosen city.

A citizen opens 城市服务 in WeChat, picks a city and the service 社保费缴纳; the service's URL
names the region (统筹区) chosen, and the core keeps it with the entry, so every page after
authorization works in that region. Authorization is the tax bureau's official account's
silent OAuth (the service pages are hosted under that account), so the user is the same
openid and WeChat Pay JSAPI pays with it: everything but the region is the 公众号's
``WeChatPageChannel``.

Settings, the keyword arguments of ``build``: as ``channels.wechat_oa.adapter.build`` without
the message Token and EncodingAESKey (city services send no messages).
"""
from __future__ import annotations

from app.domain.labels import CHANNEL_LABELS
from channels.base import Entry, EntryRequest, RequestRefused
from channels.wechat_oa.adapter import WeChatPageChannel
from channels.wechat_oa.wechat_api import API_BASE_URL, OAUTH_BASE_URL, WeChatWeb


class WeChatCityChannel(WeChatPageChannel):
    """城市服务: the region chosen at entry, then the 公众号's OAuth, menus and WeChat Pay JSAPI."""

    code = "wechat_city"
    title = CHANNEL_LABELS["wechat_city"]
    needs_region = True

    def entry(self, request: EntryRequest) -> Entry:
        if not request.region:
            raise RequestRefused("region_required", "city services enter with a region")
        return super().entry(request)


def build(*, app_id: str, secret: str, page_url_prefixes: tuple[str, ...] | list[str] = (),
          api_base_url: str = API_BASE_URL, oauth_base_url: str = OAUTH_BASE_URL,
          token_store_url: str | None = None, timeout_seconds: float = 5.0) -> WeChatCityChannel:
    """The city-services channel from plain settings."""
    return WeChatCityChannel(WeChatWeb(app_id=app_id, secret=secret, api_base_url=api_base_url,
                                       oauth_base_url=oauth_base_url, timeout_seconds=timeout_seconds,
                                       token_store_url=token_store_url, page_url_prefixes=tuple(page_url_prefixes)))
