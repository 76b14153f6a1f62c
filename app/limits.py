"""The one rate limiter (flask-limiter) every feature shares, built on first use.

``init_limiter(app)`` builds the limiter once per process and attaches it to each app once
(calling it again is harmless), so features that register in any order get the same object.
Counters live where ``RATELIMIT_STORAGE_URI`` says; when it is empty they go to ``REDIS_URL``,
and without Redis (the zero-setup run, a single process) to memory. Limits are keyed by the
client address as the WSGI server sees it: behind a proxy, the deployment must set up
``ProxyFix`` so that is the real client.

Features apply limits inside their views with ``limiter.limit(...)`` used as a context
manager (or as a decorator on view functions defined at import); nothing here sets a
default limit on other routes. Provider notifications skip the limiter's per-request look-up
altogether (``UNLIMITED_ENDPOINTS``): no limit applies to them, they are signed and sent again
until acknowledged, and resolving "no limits" took about 5 % of each one's CPU (cProfile).
"""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from app.domain.errors import TooManyAttempts

__all__ = ["limiter", "init_limiter", "storage_uri", "guard_identification", "verification_limit"]

IDENTIFY_COUNTED = (400, 404, 422)  # a failed identification: wrong input, or no such person
IDENTIFY_RATE_LIMITED = ("identification_rate_limited", "身份确认失败次数过多，请稍后再试")
VERIFY_SCOPE = "verification"

UNLIMITED_ENDPOINTS = frozenset({"orders.notify"})  # a 429 would only delay a provider's next attempt

limiter: Limiter | None = None  # built by init_limiter, never at import


def storage_uri(config) -> str:
    """Where counters are kept: the explicit setting, else Redis, else this process's memory."""
    return config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "memory://"


def init_limiter(app: Flask) -> Limiter:
    """The shared limiter, attached to ``app`` (idempotent)."""
    global limiter
    if limiter is None:
        # a Redis outage should not turn every limited page into an error: count in memory meanwhile
        limiter = Limiter(key_func=get_remote_address, in_memory_fallback_enabled=True)
        limiter.request_filter(_unlimited)
    if limiter not in app.extensions.get("limiter", set()):
        app.config["RATELIMIT_STORAGE_URI"] = storage_uri(app.config)
        limiter.init_app(app)
    return limiter


def _unlimited() -> bool:
    return request.endpoint in UNLIMITED_ENDPOINTS


def _counted(response) -> bool:
    return response.status_code in IDENTIFY_COUNTED


def guard_identification(channel_user_key: str | None) -> None:
    """Refuse (429) once identification has failed too often for this address or channel user.

    Checked before the attempt; the attempt counts after it, when its answer is a failure. The
    API and the payer pages share it (and its counters).
    """
    config = current_app.config
    try:
        with limiter.limit(config["IDENTIFY_LIMIT_PER_IP"], key_func=get_remote_address, deduct_when=_counted):
            pass
        if channel_user_key:
            with limiter.limit(config["IDENTIFY_LIMIT_PER_CHANNEL_USER"],
                               key_func=lambda: "channel-user:" + channel_user_key, deduct_when=_counted):
                pass
    except RateLimitExceeded:
        raise TooManyAttempts(*IDENTIFY_RATE_LIMITED) from None


def verification_limit():
    """A context manager counting one public verification against the client's limit (429 beyond it).

    The verification page and the API's verification endpoint share one counter.
    """
    return limiter.shared_limit(lambda: current_app.config["VERIFY_RATE_LIMIT"], scope=VERIFY_SCOPE)
