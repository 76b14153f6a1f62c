"""gunicorn's threaded worker, answering the requests it refuses itself in our error shape, in Chinese.

A request line past ``limit_request_line`` or headers past ``limit_request_fields`` /
``limit_request_field_size`` never reach Flask: gunicorn answers them with an English HTML page
of its own. This worker answers them as the app would — 414 ``uri_too_long``, 431
``headers_too_large``, 400 ``bad_request`` for a request it cannot parse — as JSON
``{code, status, message, errors}``. Other failures stay gunicorn's (and its logging).
Selected by ``worker_class`` in ``gunicorn.conf.py``.

``warm_worker_app`` is the ``post_worker_init`` hook of every worker (this class or another): the
composition root builds providers and channels on first use, so that a command that never pays
never loads a payment SDK; a web worker builds them before it serves, so a provider that cannot
be built stops the worker at boot (as it did when they were built at start-up) and the first
payer does not wait for an SDK and its keys to load.
"""
from __future__ import annotations

import json
from http import HTTPStatus

from gunicorn import util
from gunicorn.http import errors as http
from gunicorn.workers.gthread import ThreadWorker

from app.errors import HTTP_MESSAGES

_STATUS = (
    (http.LimitRequestLine, 414),
    (http.LimitRequestHeaders, 431),
    ((http.InvalidRequestLine, http.InvalidRequestMethod, http.InvalidHTTPVersion, http.InvalidHeader,
      http.InvalidHeaderName, http.InvalidSchemeHeaders, http.InvalidChunkSize, http.ChunkMissingTerminator,
      http.InvalidChunkExtension, http.ObsoleteFolding), 400),
)


def warm_worker_app(worker) -> None:
    """Build the app's providers and channels now, before the worker takes its first request."""
    container = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("sbf")
    if container is not None:
        container.warm()


def refused_status(exc: BaseException) -> int | None:
    """The status we answer a request gunicorn refused with, or None to leave it to gunicorn."""
    return next((status for kinds, status in _STATUS if isinstance(exc, kinds)), None)


def error_response(status: int) -> bytes:
    """A whole HTTP/1.1 answer in the app's error shape; the connection closes after it."""
    code, message = HTTP_MESSAGES[status]
    body = json.dumps({"code": code, "status": status, "message": message, "errors": {}},
                      ensure_ascii=False).encode("utf-8")
    head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nConnection: close\r\n"
            f"Content-Type: application/json; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


class ChineseErrorsThreadWorker(ThreadWorker):
    """gthread, with the refusals above in our shape."""

    def handle_error(self, req, client, addr, exc):
        status = refused_status(exc)
        if status is None:
            return super().handle_error(req, client, addr, exc)
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        try:
            util.write_nonblock(client, error_response(status))
        except Exception:  # noqa: BLE001 - the client may be gone; nothing else to do
            self.log.debug("Failed to send error message.")
