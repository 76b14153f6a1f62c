"""A local 云闪付 open platform (open.95516.com): user authorization for pages in the 云闪付 app.

The flow, as 云闪付's open-platform documentation describes it for H5 / applet pages:
- the page gets a one-time ``code``: inside the app through ``upsdk.appletAuth`` (scope
  ``upapi_base``), or in a browser through ``/s/open/html/oauth.html?appId&redirectUri&
  responseType=code&scope&state``, which redirects back with ``code`` and ``state``;
- the backend gets a ``backendToken``: ``POST /open/access/1.0/backendToken`` with JSON
  ``{appId, nonceStr, timestamp, signature}``, signature = SHA-256 hex of
  ``appId=..&nonceStr=..&secret=..&timestamp=..`` (sorted by key, the secret never sent);
- code → user: ``POST /open/access/1.0/token`` with ``{appId, backendToken, code,
  grantType: "authorization_code"}`` → ``params.openId`` (and accessToken, scope).
Answers are ``{"resp": "00", "msg": ..., "params": {...}}``; anything but ``00`` is a refusal
(the sandbox's refusal codes are its own: ``a31`` bad backendToken, ``a20`` bad code, ``a10``
bad signature or app).

Signed answers: the sandbox signs every answer with the platform's key, the way ACP 5.1.0
signs (signMethod 01: RSA SHA-256 over the SHA-256 hex of the sorted ``k=v&...`` of
``resp``, ``msg`` and every non-empty ``params`` value), in a top-level ``signature``; the
adapter checks it with the platform public key when one is configured, so an impostor
platform (or a sandbox with other keys) is refused. ``/_control`` as in the other sandboxes.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from flask import Flask, Response, jsonify, make_response, redirect, request

from channels.sandbox.codes import CodeBook, TokenBook, derived_id, install_common_controls
from payments.sandbox.common import Faults, ensure_rsa_key, public_pem

TOKEN_SECONDS = 7200
TIMESTAMP_WINDOW_SECONDS = 300
USER_COOKIE = "sbx_unionpay_user"


@dataclass(frozen=True)
class OpenAccount:
    """An application registered at 云闪付's open platform, and the platform's signing key."""

    app_id: str
    secret: str
    platform_private_pem: bytes
    platform_public_key_file: Path

    def open_id_of(self, user: str) -> str:
        # 云闪付 openIds are opaque strings, different per app
        return derived_id(self.app_id, user, length=44)


def ensure_account(key_dir: str | Path) -> OpenAccount:
    """The sandbox application and platform key in ``key_dir``, made on first use."""
    directory = Path(key_dir) / "unionpay_open"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "app.json"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"app_id": secrets.token_hex(16), "secret": secrets.token_hex(16)}))
        try:
            os.link(tmp, path)  # atomic: of two processes starting at once, the first one's account stands
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    app = json.loads(path.read_text())
    private_pem = ensure_rsa_key(directory / "platform_private.pem")
    public_path = directory / "platform_public.pem"
    if not public_path.exists() or public_path.read_bytes() != public_pem(private_pem):
        tmp = public_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(public_pem(private_pem))
        os.replace(tmp, public_path)
    return OpenAccount(app["app_id"], app["secret"], private_pem, public_path)


def signing_text(answer: dict) -> str:
    """What the platform signs: sorted ``k=v&...`` of resp, msg and the non-empty params."""
    flat = {"resp": answer.get("resp", ""), "msg": answer.get("msg", "")}
    flat.update({k: v for k, v in (answer.get("params") or {}).items()})
    return "&".join(f"{k}={v}" for k, v in sorted(flat.items()) if v not in (None, ""))


class OpenPlatform:
    """The sandbox's state."""

    def __init__(self, account: OpenAccount):
        self.account = account
        self.codes = CodeBook()
        self.backend_tokens = TokenBook()
        self.faults = Faults()
        self._key = serialization.load_pem_private_key(account.platform_private_pem, password=None)

    def answer(self, resp: str, msg: str, params: dict | None = None) -> Response:
        body = {"resp": resp, "msg": msg, "params": params or {}}
        digest = hashlib.sha256(signing_text(body).encode("utf-8")).hexdigest()
        signature = self._key.sign(digest.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        body["signature"] = base64.b64encode(signature).decode("ascii")
        return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")

    def reset(self) -> None:
        self.codes.reset()
        self.backend_tokens.reset()
        self.faults.update({k: type(v)() for k, v in self.faults.as_dict().items()})


def create_sandbox_app(key_dir: str | Path, time_scale: float = 1.0) -> Flask:
    """The 云闪付 open-platform sandbox; its application and keys live in ``key_dir``."""
    platform = OpenPlatform(ensure_account(key_dir))
    account = platform.account
    app = Flask(__name__)
    app.extensions["unionpay_open_sandbox"] = platform

    @app.get("/s/open/html/oauth.html")
    def authorize():
        args = request.args
        if args.get("appId") != account.app_id:
            return Response("应用不存在或未上线", 400, mimetype="text/plain; charset=utf-8")
        if args.get("responseType") != "code" or args.get("scope") not in ("upapi_base", "upapi_mobile",
                                                                             "upapi_auth"):
            return Response("授权参数错误", 400, mimetype="text/plain; charset=utf-8")
        redirect_uri = args.get("redirectUri", "")
        if not redirect_uri.startswith(("http://", "https://")):
            return Response("redirectUri参数错误", 400, mimetype="text/plain; charset=utf-8")
        user = args.get("sandbox_user") or request.cookies.get(USER_COOKIE) or "guest-" + secrets.token_hex(4)
        code = platform.codes.issue(account.open_id_of(user), account.app_id)
        separator = "&" if "?" in redirect_uri else "?"
        answer = make_response(redirect(redirect_uri + separator + urlencode(
            {"code": code, "state": args.get("state", "")}), code=302))
        answer.set_cookie(USER_COOKIE, user, httponly=True)
        return answer

    @app.post("/open/access/1.0/backendToken")
    def backend_token():
        data = request.get_json(silent=True) or {}
        if data.get("appId") != account.app_id:
            return platform.answer("a10", "appId无效")
        try:
            fresh = abs(time.time() - int(data.get("timestamp", 0))) <= TIMESTAMP_WINDOW_SECONDS
        except (TypeError, ValueError):
            fresh = False
        if not fresh or not data.get("nonceStr"):
            return platform.answer("a10", "timestamp或nonceStr无效")
        expected = hashlib.sha256("&".join(f"{k}={v}" for k, v in sorted({
            "appId": account.app_id, "nonceStr": str(data["nonceStr"]), "secret": account.secret,
            "timestamp": str(data["timestamp"])}.items())).encode("utf-8")).hexdigest()
        if not secrets.compare_digest(str(data.get("signature", "")), expected):
            return platform.answer("a10", "签名验证失败")
        return platform.answer("00", "成功", {
            "backendToken": platform.backend_tokens.issue(account.app_id, TOKEN_SECONDS), "expiresIn": TOKEN_SECONDS})

    @app.post("/open/access/1.0/token")
    def token():
        data = request.get_json(silent=True) or {}
        if data.get("appId") != account.app_id:
            return platform.answer("a10", "appId无效")
        owner, why = platform.backend_tokens.owner(str(data.get("backendToken", "")))
        if owner != account.app_id:
            return platform.answer("a31", "backendToken已过期" if why == "expired" else "backendToken无效")
        if data.get("grantType") != "authorization_code":
            return platform.answer("a20", "grantType无效")
        open_id, why = platform.codes.take(str(data.get("code", "")), account.app_id)
        if open_id is None:
            return platform.answer("a20", "code已使用" if why == "used" else "code无效或已过期")
        return platform.answer("00", "成功", {
            "accessToken": secrets.token_urlsafe(32), "openId": open_id, "expiresIn": TOKEN_SECONDS,
            "refreshToken": secrets.token_urlsafe(32), "scope": "upapi_base"})

    @app.get("/_control")
    def control():
        return jsonify(app_id=account.app_id, codes_issued=platform.codes.issued_count,
                       backend_tokens_issued=platform.backend_tokens.issued_count,
                       faults=platform.faults.as_dict())

    @app.post("/_control/oauth/codes")
    def issue_code():
        user = (request.get_json(silent=True) or {}).get("user") or "guest-" + secrets.token_hex(4)
        open_id = account.open_id_of(user)
        return jsonify(code=platform.codes.issue(open_id, account.app_id), openId=open_id, user=user)

    install_common_controls(app, platform, platform.backend_tokens, outage_status=503)
    return app
