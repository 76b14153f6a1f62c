"""Per request: trusted proxy headers, the request id, who reads personal data, latency, one log line.

* ``TRUSTED_PROXY_COUNT`` proxies in front: werkzeug's ``ProxyFix`` takes the client address,
  scheme and host from that many ``X-Forwarded-*`` hops and no more, so a client cannot
  choose its own address (the rate limits key on it). With 0 nothing forwarded is believed.
* The request id: the ``REQUEST_ID_HEADER`` a trusted proxy set (only when there is one, and
  only if it looks like an id), else a new one; answered in the same header, stamped on
  every log line, handed to jobs enqueued meanwhile (``app/observability/jobs.py``).
* The personal-data accessor (``app/adapters/personal_data_log.py``): the API client (its key's
  fingerprint), the channel user, or the identification session, and the endpoint as purpose.
"""
from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid

from flask import Flask, g, request, session
from werkzeug.middleware.proxy_fix import ProxyFix

from app.adapters.personal_data_log import AccessContext, reset_context, set_context
from app.observability.logs import request_id_var
from app.observability.metrics import metrics

log = logging.getLogger("sbf.requests")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def _accessor() -> tuple[str, str]:
    """Who is asking, as far as this request says (resolved only when personal data is read)."""
    if request.headers.get("X-Api-Key"):
        return "api_client", "key:" + _fingerprint(request.headers["X-Api-Key"])
    channel_token = request.headers.get("X-Channel-Token")
    if channel_token:
        from flask import current_app

        try:
            data = current_app.extensions["sbf"].channels.sessions.get(channel_token)
        except Exception:  # a store outage must not hide the read: fall back to the token's fingerprint
            data = None
        if data:
            return "channel_user", f"{data['channel']}:{data['user_id']}"
        return "channel_session", "token:" + _fingerprint(channel_token)
    if session.get("channel_user"):  # the payer pages, after a channel's authorization
        return "channel_user", f"{session.get('channel')}:{session['channel_user']}"
    tokens = request.headers.get("X-Session-Token") or request.args.get("token") or session.get("current")
    if tokens:
        return "payer_session", "token:" + _fingerprint(str(tokens))
    return "anonymous", request.remote_addr or "-"


def init_requests(app: Flask) -> None:
    """Install the proxy fix and the before/after hooks on ``app``."""
    proxies = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)
    header = app.config.get("REQUEST_ID_HEADER") or "X-Request-ID"

    @app.before_request
    def _start():
        given = request.headers.get(header, "") if proxies else ""
        rid = given if _VALID_ID.match(given) else uuid.uuid4().hex
        g.request_id, g.started = rid, time.perf_counter()
        g.request_id_token = request_id_var.set(rid)
        g.access_token = set_context(AccessContext(
            who=_accessor, purpose=f"{request.method} {request.url_rule.rule if request.url_rule else request.path}",
            request_id=rid, client_ip=request.remote_addr))

    @app.after_request
    def _finish(response):
        rid = g.get("request_id")
        if rid:
            response.headers[header] = rid
        started = g.get("started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule else "unmatched"
            seconds = time.perf_counter() - started
            m = metrics()
            m.request_seconds.labels(request.method, route, str(response.status_code)).observe(seconds)
            if response.status_code == 429:
                m.rate_limited.labels(route).inc()
            if route not in ("/metrics", "/healthz", "/readyz"):
                log.info("request", extra={"method": request.method, "route": route, "path": request.path,
                                           "status": response.status_code, "ms": round(seconds * 1000, 1),
                                           "client_ip": request.remote_addr})
        return response

    @app.teardown_request
    def _end(_exc):
        for name, reset in (("access_token", reset_context), ("request_id_token", request_id_var.reset)):
            token = g.pop(name, None)
            if token is not None:
                try:
                    reset(token)
                except ValueError:  # set in another context (a streamed answer): nothing to undo here
                    pass
