"""A client of 云闪付's open platform (open.95516.com) for user authorization.

No maintained Python SDK exists, so this is the protocol by hand with ``requests`` and
``cryptography``:
- ``backendToken``: POST ``/open/access/1.0/backendToken`` ``{appId, nonceStr, timestamp,
  signature}``, signature = SHA-256 hex of ``appId=..&nonceStr=..&secret=..&timestamp=..``
  (sorted by key; the secret is never sent). Kept until a minute before ``expiresIn`` runs out,
  one per process, behind a lock;
- code → user: POST ``/open/access/1.0/token`` ``{appId, backendToken, code,
  grantType: "authorization_code"}`` → ``params.openId``. A refused backendToken is fetched
  again once; a refused code means the user must authorize again.
Answers are ``{resp, msg, params}``; ``resp`` other than ``00`` is a refusal. When a platform
public key is configured every answer must carry a valid ``signature`` (RSA SHA-256 over the
SHA-256 hex of the sorted ``k=v&...`` of resp, msg and the non-empty params, as ACP signs);
the local sandbox signs this way. Leave it unset where TLS alone vouches for the platform.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
import threading
import time
from pathlib import Path

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from channels.base import AuthFailed, ChannelUnavailable

log = logging.getLogger(__name__)

OPEN_BASE_URL = "https://open.95516.com"
TOKEN_MARGIN_SECONDS = 60


class OpenPlatformClient:
    """Backend token and code → openId, for one application."""

    def __init__(self, *, app_id: str, secret: str, base_url: str = OPEN_BASE_URL,
                 platform_public_key: str | None = None, timeout_seconds: float = 5.0):
        self.app_id = app_id
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout_seconds
        self._public_key = _load_public_key(platform_public_key) if platform_public_key else None
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self._http = requests.Session()

    def open_id_for_code(self, code: str) -> str:
        """The user's openId for a one-time authorization code."""
        if not code:
            raise AuthFailed("code_missing")
        for attempt in (1, 2):
            token = self._backend_token(renew=attempt == 2)
            answer = self._post("/open/access/1.0/token", {"appId": self.app_id, "backendToken": token,
                                                           "code": code, "grantType": "authorization_code"})
            resp, params = answer.get("resp"), answer.get("params") or {}
            if resp == "00":
                open_id = params.get("openId")
                if not isinstance(open_id, str) or not open_id:
                    raise ChannelUnavailable("answer_unreadable", "no openId in the answer")
                return open_id
            if "backendToken" in str(answer.get("msg", "")) and attempt == 1:
                continue  # it lapsed (or another process renewed it): once more with a fresh one
            raise AuthFailed("code_refused", f"{resp} {answer.get('msg', '')}")
        raise ChannelUnavailable("backend_token_refused")

    def _backend_token(self, renew: bool = False) -> str:
        with self._lock:
            if not renew and self._token and self._token[1] > time.monotonic():
                return self._token[0]
            nonce, timestamp = secrets.token_hex(8), str(int(time.time()))
            signed = "&".join(f"{k}={v}" for k, v in sorted({"appId": self.app_id, "nonceStr": nonce,
                                                               "secret": self._secret,
                                                               "timestamp": timestamp}.items()))
            answer = self._post("/open/access/1.0/backendToken", {
                "appId": self.app_id, "nonceStr": nonce, "timestamp": timestamp,
                "signature": hashlib.sha256(signed.encode("utf-8")).hexdigest()})
            params = answer.get("params") or {}
            if answer.get("resp") != "00" or not params.get("backendToken"):
                log.warning("unionpay open: backendToken refused: %s %s", answer.get("resp"), answer.get("msg"))
                raise ChannelUnavailable("backend_token_refused", f"{answer.get('resp')} {answer.get('msg')}")
            lifetime = max(0, int(params.get("expiresIn") or 0) - TOKEN_MARGIN_SECONDS)
            self._token = (str(params["backendToken"]), time.monotonic() + lifetime)
            return self._token[0]

    def _post(self, path: str, payload: dict) -> dict:
        try:
            answer = self._http.post(self.base_url + path, json=payload, timeout=self._timeout)
        except requests.RequestException as exc:
            raise ChannelUnavailable("unreachable", type(exc).__name__) from exc
        if answer.status_code != 200:
            raise ChannelUnavailable("http_error", f"HTTP {answer.status_code}")
        try:
            body = answer.json()
        except ValueError as exc:
            raise ChannelUnavailable("answer_unreadable", "not JSON") from exc
        if not isinstance(body, dict):
            raise ChannelUnavailable("answer_unreadable", "not a JSON object")
        if self._public_key is not None and not self._verified(body):
            log.warning("unionpay open: answer to %s does not verify", path)
            raise ChannelUnavailable("answer_signature_invalid")
        return body

    def _verified(self, body: dict) -> bool:
        params = body.get("params") or {}
        if not isinstance(params, dict):
            return False
        flat = {"resp": body.get("resp", ""), "msg": body.get("msg", ""), **params}
        text = "&".join(f"{k}={v}" for k, v in sorted(flat.items()) if v not in (None, ""))
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest().encode("ascii")
        try:
            self._public_key.verify(base64.b64decode(str(body.get("signature", "")), validate=True), digest,
                                    padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


def _load_public_key(value: str):
    text = value if value.lstrip().startswith("-----BEGIN") else Path(value).read_text()
    return serialization.load_pem_public_key(text.encode("ascii"))
