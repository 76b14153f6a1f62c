"""What the identity sandboxes share: the book of one-time authorization codes and their users.

A real platform issues a code when its user authorizes (or silently, for base scopes) and
takes it back once: a code works once and for five minutes (WeChat's and 云闪付's rule; Alipay's
auth_code also lasts minutes). Users of the sandbox are named by a label (a test says
``"alice"``, a browser gets a random one in a cookie); each platform derives its own user id
from the label, the way one person has a different openid in every app.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

CODE_LIFETIME_SECONDS = 300


def derived_id(*parts: str, prefix: str = "", length: int = 28) -> str:
    """A stable id for a user label within one platform and app."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return prefix + digest[: max(1, length - len(prefix))]


@dataclass
class _Issued:
    user_id: str
    client_id: str
    expires_at: float
    used: bool = False


class CodeBook:
    """One-time codes → user ids, thread-safe. ``take`` answers the user id or why not."""

    def __init__(self, lifetime_seconds: float = CODE_LIFETIME_SECONDS):
        self.lifetime = lifetime_seconds
        self._codes: dict[str, _Issued] = {}
        self._lock = threading.Lock()
        self.issued_count = 0

    def issue(self, user_id: str, client_id: str) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Issued(user_id, client_id, time.monotonic() + self.lifetime)
            self.issued_count += 1
        return code

    def take(self, code: str, client_id: str) -> tuple[str | None, str]:
        """(user_id, "") once; (None, "used" | "expired" | "invalid") otherwise."""
        with self._lock:
            issued = self._codes.get(code or "")
            if issued is None or issued.client_id != client_id:
                return None, "invalid"
            if issued.used:
                return None, "used"
            if issued.expires_at < time.monotonic():
                return None, "expired"
            issued.used = True
            return issued.user_id, ""

    def reset(self) -> None:
        with self._lock:
            self._codes.clear()
            self.issued_count = 0


class TokenBook:
    """Access tokens (or tickets) with expiry, as a platform keeps them."""

    def __init__(self):
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self.issued_count = 0

    def issue(self, owner: str, lifetime_seconds: int, prefix: str = "") -> str:
        token = prefix + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = (owner, time.monotonic() + lifetime_seconds)
            self.issued_count += 1
        return token

    def owner(self, token: str) -> tuple[str | None, str]:
        """(owner, "") while valid; (None, "expired" | "invalid") otherwise."""
        with self._lock:
            entry = self._tokens.get(token or "")
        if entry is None:
            return None, "invalid"
        if entry[1] < time.monotonic():
            return None, "expired"
        return entry[0], ""

    def expire_all(self) -> None:
        """Let every token lapse (a test checks that clients fetch a new one)."""
        with self._lock:
            self._tokens = {t: (owner, 0.0) for t, (owner, _) in self._tokens.items()}

    def reset(self) -> None:
        with self._lock:
            self._tokens.clear()
            self.issued_count = 0


def install_common_controls(app, platform, tokens, outage_status: int = 502) -> None:
    """What every identity sandbox has: the API fault switches, and the ``/_control`` routes for
    faults, token expiry and reset.

    ``platform`` has ``faults`` (payments' Faults) and ``reset()``; ``tokens`` is its TokenBook.
    """
    import time

    from flask import Response, jsonify, request  # sandboxes are Flask apps; this module stays importable alone

    @app.before_request
    def _faults():
        if request.path.startswith("/_control"):
            return None
        if platform.faults.api_delay_seconds:
            time.sleep(platform.faults.api_delay_seconds)
        if platform.faults.api_5xx:
            return Response(f"<html><body>{outage_status} Service Unavailable</body></html>", outage_status,
                            mimetype="text/html")
        return None

    @app.post("/_control/tokens/expire")
    def expire_tokens():
        tokens.expire_all()
        return jsonify(ok=True)

    @app.post("/_control/faults")
    def set_faults():
        try:
            platform.faults.update(request.get_json(silent=True) or {})
        except (KeyError, TypeError, ValueError) as exc:
            return jsonify(error=f"unknown or bad fault: {exc}"), 400
        return jsonify(faults=platform.faults.as_dict())

    @app.post("/_control/reset")
    def reset():
        platform.reset()
        return jsonify(ok=True)
