"""The one rate limiter (flask-limiter) every feature shares, built on first use.

``init_limiter(app)`` builds the limiter once per process and attaches it to each app once
(calling it again is harmless), so features that register in any order get the same object.
Counters live where ``RATELIMIT_STORAGE_URI`` says; when it is empty they go to ``REDIS_URL``,
and without Redis (the zero-setup run, a single process) to memory. Limits are keyed by the
client address as the WSGI server sees it: behind a proxy, the deployment must set up
``ProxyFix`` so that is the real client.

Features apply limits inside their views with ``limiter.limit(...)`` used as a context
manager (or as a decorator on view functions defined at import); nothing here sets a
default limit on other routes.
"""
from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

__all__ = ["limiter", "init_limiter", "storage_uri"]

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
    if limiter not in app.extensions.get("limiter", set()):
        app.config["RATELIMIT_STORAGE_URI"] = storage_uri(app.config)
        limiter.init_app(app)
    return limiter
