"""The official account's web APIs through wechatpy: OAuth (snsapi_base), JS-SDK signature, menu.

Shared by the official account (公众号) and city services (城市服务): both send the payer
through the tax bureau's official account for OAuth, and WeChat Pay JSAPI pays with that
AppID and the openid it gave.

wechatpy is pointed at another platform (the sandbox) through its base URLs:
``WeChatOAuth.API_BASE_URL`` / ``OAUTH_BASE_URL`` and ``WeChatClient.API_BASE_URL`` are read
from the instance; ``WeChatClient.fetch_access_token`` has the production URL written in,
so ``_Client`` asks ``{API_BASE_URL}token`` instead. ``WeChatOAuth`` sends without a timeout;
``_OAuth`` adds ours. The access token and the JS-SDK ticket are cached by wechatpy's session
storage: Redis when a URL is given (one token for every worker, as WeChat asks), else memory.
"""
from __future__ import annotations

import logging
import secrets
import time

import requests
from wechatpy import WeChatClient, WeChatOAuth
from wechatpy.exceptions import WeChatClientException, WeChatOAuthException
from wechatpy.session.memorystorage import MemoryStorage

from channels.base import AuthFailed, ChannelUnavailable, RequestRefused

log = logging.getLogger(__name__)

API_BASE_URL = "https://api.weixin.qq.com"
OAUTH_BASE_URL = "https://open.weixin.qq.com/connect/"
# errcodes that mean "this code is no good", not "WeChat is in trouble"
CODE_REFUSED = {40029: "code_invalid", 40163: "code_used", 41008: "code_missing"}


class _OAuth(WeChatOAuth):
    def __init__(self, *args, api_base_url: str, oauth_base_url: str, timeout: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.API_BASE_URL = api_base_url.rstrip("/") + "/"
        self.OAUTH_BASE_URL = oauth_base_url.rstrip("/") + "/"
        self._timeout = timeout

    def _request(self, method, url_or_endpoint, **kwargs):
        kwargs.setdefault("timeout", self._timeout)
        return super()._request(method, url_or_endpoint, **kwargs)


class _Client(WeChatClient):
    def __init__(self, appid: str, secret: str, api_base_url: str, session, timeout: float):
        super().__init__(appid, secret, session=session, timeout=timeout)
        self.API_BASE_URL = api_base_url.rstrip("/") + "/cgi-bin/"

    def fetch_access_token(self):
        return self._fetch_access_token(url=self.API_BASE_URL + "token", params={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})


class WeChatWeb:
    """One official account's OAuth, JS-SDK and menu calls."""

    def __init__(self, *, app_id: str, secret: str, api_base_url: str = API_BASE_URL,
                 oauth_base_url: str = OAUTH_BASE_URL, timeout_seconds: float = 5.0,
                 token_store_url: str | None = None, page_url_prefixes: tuple[str, ...] = ()):
        self.app_id = app_id
        self._secret = secret
        self._api_base_url = api_base_url
        self._oauth_base_url = oauth_base_url
        self._timeout = timeout_seconds
        self._page_url_prefixes = tuple(page_url_prefixes)
        self._client = _Client(app_id, secret, api_base_url, _token_store(token_store_url), timeout_seconds)

    def _oauth(self, redirect_uri: str = "", state: str = "") -> _OAuth:
        return _OAuth(self.app_id, self._secret, redirect_uri, scope="snsapi_base", state=state,
                      api_base_url=self._api_base_url, oauth_base_url=self._oauth_base_url,
                      timeout=self._timeout)

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        """The silent (snsapi_base) authorization page WeChat redirects back from with a code."""
        return self._oauth(redirect_uri, state).authorize_url

    def openid_for_code(self, code: str) -> str:
        """code → openid (网页授权 access_token); a code works once, for five minutes."""
        if not code:
            raise AuthFailed("code_missing")
        try:
            answer = self._oauth().fetch_access_token(code)
        except WeChatOAuthException as exc:
            if exc.errcode in CODE_REFUSED:
                raise AuthFailed(CODE_REFUSED[exc.errcode], str(exc.errmsg)) from exc
            log.warning("wechat oauth refused: %s %s", exc.errcode, exc.errmsg)
            raise ChannelUnavailable("oauth_refused", f"{exc.errcode} {exc.errmsg}") from exc
        except (requests.RequestException, ValueError) as exc:
            raise ChannelUnavailable("oauth_unreachable", type(exc).__name__) from exc
        openid = answer.get("openid")
        if not isinstance(openid, str) or not openid:
            raise ChannelUnavailable("oauth_unreadable", "no openid in the answer")
        return openid

    def jssdk_config(self, url: str, api_list: tuple[str, ...] = ("chooseWXPay",)) -> dict:
        """The ``wx.config`` of a page at ``url`` (JS-SDK signature over the jsapi_ticket)."""
        page = url.split("#", 1)[0]  # WeChat signs the URL without its fragment
        if not any(page.startswith(prefix) for prefix in self._page_url_prefixes):
            raise RequestRefused("page_url_not_allowed", "the page is outside the JS-SDK domains")
        nonce, timestamp = secrets.token_hex(8), int(time.time())
        try:
            ticket = self._client.jsapi.get_jsapi_ticket()
        except WeChatClientException as exc:
            raise ChannelUnavailable("jsapi_ticket_refused", f"{exc.errcode} {exc.errmsg}") from exc
        except (requests.RequestException, ValueError, KeyError) as exc:
            raise ChannelUnavailable("jsapi_ticket_unreachable", type(exc).__name__) from exc
        signature = self._client.jsapi.get_jsapi_signature(nonce, ticket, timestamp, page)
        return {"appId": self.app_id, "timestamp": timestamp, "nonceStr": nonce, "signature": signature,
                "jsApiList": list(api_list)}

    def create_menu(self, menu: dict) -> None:
        """Publish the custom menu (自定义菜单创建接口)."""
        try:
            self._client.menu.create(menu)
        except WeChatClientException as exc:
            raise ChannelUnavailable("menu_refused", f"{exc.errcode} {exc.errmsg}") from exc
        except requests.RequestException as exc:
            raise ChannelUnavailable("menu_unreachable", type(exc).__name__) from exc


def _token_store(url: str | None):
    if not url:
        return MemoryStorage()
    import redis  # only when configured

    from wechatpy.session.redisstorage import RedisStorage

    return RedisStorage(redis.Redis.from_url(url), prefix="wechatpy")
