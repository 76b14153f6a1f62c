"""The citizen-center login at the Alipay sandbox: the user authorization page and
``alipay.system.oauth.token`` (auth code → Alipay user id), beside the payment methods.

A separate module hooked into the gateway by two lines of ``app.py`` (one entry of
``API_METHODS`` and ``install(app)``); the gateway does the request checks (app id, RSA2
signature, timestamp) and signs the answer, as for every other method.
- ``GET /oauth2/publicAppAuthorize.htm?app_id&scope=auth_base&redirect_uri&state`` (Alipay's
  is on openauth.alipay.com): redirects to ``redirect_uri?auth_code=..&app_id=..&source=
  alipay_wallet&scope=..&state=..``; the user is ``sandbox_user``, else the browser's
  cookie, else a new one;
- ``alipay.system.oauth.token`` with ``grant_type=authorization_code`` and ``code`` (public
  parameters, no biz_content) answers ``user_id`` (2088...), ``open_id``, ``access_token``,
  ``expires_in``, ``refresh_token``, ``re_expires_in``, ``auth_start`` — without ``code``:
  10000, as Alipay's documentation shows it. An unknown, used or expired code is refused as
  ``isv.code-invalid``; Alipay sends that one as ``error_response``, the sandbox inside
  ``alipay_system_oauth_token_response`` (the adapter reads both).
- ``POST /_control/oauth/codes {"user": "alice"}`` issues a code for a test.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, jsonify, make_response, redirect, request

from payments.sandbox.alipay.signing import APP_ID
from payments.sandbox.alipay.trades import AlipayError

METHOD = "alipay.system.oauth.token"
USER_COOKIE = "sbx_alipay_user"
TOKEN_SECONDS = 1296000  # 15 days, Alipay's access-token lifetime
REFRESH_SECONDS = 2592000
CODE_SECONDS = 300  # an auth_code is good once, for minutes


class AuthCodes:
    """One-time auth codes → sandbox user labels."""

    def __init__(self):
        self._codes: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def issue(self, user: str) -> str:
        code = secrets.token_hex(16)
        with self._lock:
            self._codes[code] = (user, time.monotonic() + CODE_SECONDS)
        return code

    def take(self, code: str) -> str | None:
        with self._lock:
            user, expires_at = self._codes.pop(code or "", (None, 0.0))
        return user if user is not None and expires_at >= time.monotonic() else None


def user_ids(user: str) -> tuple[str, str]:
    """The (user_id, open_id) a sandbox user label has at the sandbox app."""
    digest = hashlib.sha256(f"{APP_ID}\x1f{user}".encode("utf-8")).hexdigest()
    return "2088" + str(int(digest[:24], 16))[-12:].rjust(12, "0"), "0" + digest[24:64] + digest[:3]


def install(app: Flask) -> None:
    """Add the authorization page and the control endpoint; keep the codes on the app."""
    codes = AuthCodes()
    app.extensions["alipay_oauth"] = codes

    @app.get("/oauth2/publicAppAuthorize.htm")
    def authorize():
        args = request.args
        if args.get("app_id") != APP_ID:
            return Response("应用不存在", 400, mimetype="text/plain; charset=utf-8")
        if args.get("scope") not in ("auth_base", "auth_user"):
            return Response("scope参数错误", 400, mimetype="text/plain; charset=utf-8")
        redirect_uri = args.get("redirect_uri", "")
        if not redirect_uri.startswith(("http://", "https://")):
            return Response("redirect_uri参数错误", 400, mimetype="text/plain; charset=utf-8")
        user = args.get("sandbox_user") or request.cookies.get(USER_COOKIE) or "guest-" + secrets.token_hex(4)
        code = codes.issue(user)
        separator = "&" if "?" in redirect_uri else "?"
        answer = make_response(redirect(redirect_uri + separator + urlencode({
            "auth_code": code, "app_id": APP_ID, "source": "alipay_wallet", "scope": args["scope"],
            "state": args.get("state", "")}), code=302))
        answer.set_cookie(USER_COOKIE, user, httponly=True)
        return answer

    @app.post("/_control/oauth/codes")
    def issue_code():
        user = (request.get_json(silent=True) or {}).get("user") or "guest-" + secrets.token_hex(4)
        user_id, open_id = user_ids(user)
        return jsonify(code=codes.issue(user), user_id=user_id, open_id=open_id, user=user)


def system_oauth_token(sandbox, params: dict, biz: dict, base_url: str) -> dict:
    """alipay.system.oauth.token (gateway handler): auth code → the user's ids."""
    if params.get("grant_type") != "authorization_code":
        raise AlipayError("isv.invalid-parameter", "grant_type参数错误", code="40002", msg="Invalid Arguments")
    user = current_app.extensions["alipay_oauth"].take(params.get("code", ""))
    if user is None:
        raise AlipayError("isv.code-invalid", "授权码code无效", code="40002", msg="Invalid Arguments")
    user_id, open_id = user_ids(user)
    return {"user_id": user_id, "open_id": open_id, "access_token": "authbseB" + secrets.token_hex(16),
            "expires_in": TOKEN_SECONDS, "refresh_token": "authbseB" + secrets.token_hex(16),
            "re_expires_in": REFRESH_SECONDS,
            "auth_start": datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")}
