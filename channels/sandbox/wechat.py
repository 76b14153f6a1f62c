"""A local WeChat official-account platform: web OAuth, access token, JS-SDK ticket, custom menu.

Endpoints as WeChat's (paths and answers from the official-account documentation, and as
wechatpy's ``WeChatOAuth`` / ``WeChatClient`` call them):
- ``GET /connect/oauth2/authorize`` — the page WeChat shows (silently, for snsapi_base): it
  redirects to ``redirect_uri?code=...&state=...``; the user is the label in ``sandbox_user``,
  else the browser's cookie, else a new one;
- ``GET /sns/oauth2/access_token`` — code → ``{access_token, openid, scope, ...}``; a code works
  once and for five minutes (errcode 40029 invalid, 40163 used, 40125 wrong secret);
- ``GET /cgi-bin/token`` (client_credential), ``GET /cgi-bin/ticket/getticket?type=jsapi``;
- ``POST /cgi-bin/menu/create``, ``GET /cgi-bin/menu/get``.
WeChat does not sign these answers (TLS is what vouches for them), so neither does the sandbox.
``/_control`` issues codes for tests (``POST /_control/oauth/codes {"user": "alice"}``), shows
the current JS-SDK ticket and menu, resets, and flips ``api_5xx`` / ``api_delay_seconds``.

The account (AppID, AppSecret, the message Token and EncodingAESKey) is made once in
``key_dir``; its AppID is the WeChat Pay sandbox's, as a real OA pays with its own AppID.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, make_response, redirect, request

from channels.sandbox.codes import CodeBook, TokenBook, derived_id, install_common_controls
from payments.sandbox.common import Faults
from payments.sandbox.wechatpay.keys import APPID

TOKEN_SECONDS = 7200
USER_COOKIE = "sbx_wechat_user"


@dataclass(frozen=True)
class WeChatAccount:
    """An official account as registered at WeChat (公众号 basic configuration)."""

    appid: str
    secret: str
    token: str  # the message Token (服务器配置 → 令牌)
    encoding_aes_key: str  # 43 characters (消息加解密密钥)
    original_id: str  # gh_..., the ToUserName of messages

    def openid_of(self, user: str) -> str:
        return derived_id(self.appid, user, prefix="o", length=28)


def ensure_account(key_dir: str | Path) -> WeChatAccount:
    """The sandbox account in ``key_dir``, made on first use (idempotent, safe across processes)."""
    path = Path(key_dir) / "wechat_mp" / "account.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        account = {"appid": APPID, "secret": secrets.token_hex(16), "token": secrets.token_hex(8),
                   "encoding_aes_key": base64.b64encode(os.urandom(32)).decode("ascii")[:43],
                   "original_id": "gh_" + secrets.token_hex(6)}
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(account))
        try:
            os.link(tmp, path)  # atomic: of two processes starting at once, the first one's account stands
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return WeChatAccount(**json.loads(path.read_text()))


class WeChatPlatform:
    """The sandbox's state: codes, tokens, tickets, the menu and fault switches."""

    def __init__(self, account: WeChatAccount):
        self.account = account
        self.codes = CodeBook()
        self.tokens = TokenBook()
        self.faults = Faults()
        self.menu: dict | None = None
        self._ticket: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def jsapi_ticket(self) -> str:
        with self._lock:
            if self._ticket is None or self._ticket[1] < time.monotonic():
                self._ticket = (secrets.token_urlsafe(64), time.monotonic() + TOKEN_SECONDS)
            return self._ticket[0]

    def current_ticket(self) -> str | None:
        with self._lock:
            return self._ticket[0] if self._ticket else None

    def reset(self) -> None:
        self.codes.reset()
        self.tokens.reset()
        self.faults.update({k: type(v)() for k, v in self.faults.as_dict().items()})
        with self._lock:
            self.menu = None
            self._ticket = None


def _error(errcode: int, errmsg: str) -> Response:
    # WeChat answers errors with HTTP 200 and an errcode
    return jsonify(errcode=errcode, errmsg=f"{errmsg} rid: {secrets.token_hex(4)}")


def create_sandbox_app(key_dir: str | Path, time_scale: float = 1.0) -> Flask:
    """The WeChat platform sandbox; its account lives in ``key_dir``."""
    platform = WeChatPlatform(ensure_account(key_dir))
    account = platform.account
    app = Flask(__name__)
    app.extensions["wechat_sandbox"] = platform

    @app.get("/connect/oauth2/authorize")
    def authorize():
        args = request.args
        if args.get("appid") != account.appid:
            return Response("appid参数错误", 400, mimetype="text/plain")
        if args.get("response_type") != "code" or args.get("scope") not in ("snsapi_base", "snsapi_userinfo"):
            return Response("scope参数错误或没有scope权限", 400, mimetype="text/plain")
        redirect_uri = args.get("redirect_uri", "")
        if not redirect_uri.startswith(("http://", "https://")):
            return Response("redirect_uri参数错误", 400, mimetype="text/plain")
        user = args.get("sandbox_user") or request.cookies.get(USER_COOKIE) or "guest-" + secrets.token_hex(4)
        code = platform.codes.issue(account.openid_of(user), account.appid)
        separator = "&" if "?" in redirect_uri else "?"
        answer = make_response(redirect(redirect_uri + separator + urlencode(
            {"code": code, "state": args.get("state", "")}), code=302))
        answer.set_cookie(USER_COOKIE, user, httponly=True)
        return answer

    @app.get("/sns/oauth2/access_token")
    def oauth_access_token():
        args = request.args
        if args.get("appid") != account.appid:
            return _error(40013, "invalid appid")
        if args.get("secret") != account.secret:
            return _error(40125, "invalid appsecret")
        if args.get("grant_type") != "authorization_code":
            return _error(40002, "invalid grant_type")
        openid, why = platform.codes.take(args.get("code", ""), account.appid)
        if openid is None:
            return _error(40163, "code been used") if why == "used" else _error(40029, "invalid code")
        return jsonify(access_token=platform.tokens.issue("oauth:" + openid, TOKEN_SECONDS),
                       expires_in=TOKEN_SECONDS, refresh_token=secrets.token_urlsafe(32), openid=openid,
                       scope="snsapi_base", is_snapshotuser=0)

    @app.get("/cgi-bin/token")
    def access_token():
        args = request.args
        if args.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        if args.get("appid") != account.appid:
            return _error(40013, "invalid appid")
        if args.get("secret") != account.secret:
            return _error(40125, "invalid appsecret")
        return jsonify(access_token=platform.tokens.issue("app", TOKEN_SECONDS), expires_in=TOKEN_SECONDS)

    def _app_token_refusal() -> Response | None:
        owner, why = platform.tokens.owner(request.args.get("access_token", ""))
        if owner != "app":
            return _error(42001, "access_token expired") if why == "expired" else _error(
                40001, "invalid credential, access_token is invalid or not latest")
        return None

    @app.get("/cgi-bin/ticket/getticket")
    def ticket():
        refusal = _app_token_refusal()
        if refusal is not None:
            return refusal
        if request.args.get("type") != "jsapi":
            return _error(40097, "invalid args")
        return jsonify(errcode=0, errmsg="ok", ticket=platform.jsapi_ticket(), expires_in=TOKEN_SECONDS)

    @app.post("/cgi-bin/menu/create")
    def menu_create():
        refusal = _app_token_refusal()
        if refusal is not None:
            return refusal
        menu = request.get_json(force=True, silent=True)
        buttons = menu.get("button") if isinstance(menu, dict) else None
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            return _error(40016, "invalid button size")
        for button in buttons:
            subs = button.get("sub_button") or []
            if not button.get("name") or len(subs) > 5:
                return _error(40017, "invalid button type")
            for sub in subs:
                if sub.get("type") == "view" and not str(sub.get("url", "")).startswith(("http://", "https://")):
                    return _error(40055, "invalid button url domain")
        platform.menu = menu
        return jsonify(errcode=0, errmsg="ok")

    @app.get("/cgi-bin/menu/get")
    def menu_get():
        refusal = _app_token_refusal()
        if refusal is not None:
            return refusal
        if platform.menu is None:
            return _error(46003, "menu no exist")
        return jsonify(menu=platform.menu)

    @app.get("/_control")
    def control():
        return jsonify(account={"appid": account.appid, "original_id": account.original_id},
                       codes_issued=platform.codes.issued_count, tokens_issued=platform.tokens.issued_count,
                       menu=platform.menu,
                       jsapi_ticket=platform.current_ticket(), faults=platform.faults.as_dict())

    @app.post("/_control/oauth/codes")
    def issue_code():
        user = (request.get_json(silent=True) or {}).get("user") or "guest-" + secrets.token_hex(4)
        openid = account.openid_of(user)
        return jsonify(code=platform.codes.issue(openid, account.appid), openid=openid, user=user)

    install_common_controls(app, platform, platform.tokens, outage_status=502)
    return app
