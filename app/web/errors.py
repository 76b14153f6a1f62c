"""Errors on the payer's pages are pages: in the channel's look, in Chinese, with a way back.

The API keeps its JSON error shape; a request for a page (under ``/h5/``, the landing page, a
channel's entry and callback) gets HTML instead — a mistyped address, another person's
record, a domain error, an unexpected failure alike.
"""
from __future__ import annotations

import logging

from flask import Flask, g, request, session, url_for
from werkzeug.exceptions import HTTPException

from app.domain.errors import DomainError
from app.web.context import channel_codes, render, set_channel

log = logging.getLogger(__name__)

HTTP_PAGE_MESSAGES = {
    400: "请求有误，请返回重试",
    403: "无权访问该页面",
    404: "您访问的页面不存在，或该记录不属于当前参保人",
    405: "该页面不能这样打开，请从菜单进入",
    429: "操作过于频繁，请稍后再试",
}
PAGE_PREFIXES = ("/h5/",)


def is_page_request() -> bool:
    path = request.path
    if path == "/" or path.startswith(PAGE_PREFIXES):
        return True
    # a channel's entry and authorization callback are pages too; its message endpoint is not
    return path.startswith("/channels/") and path.rsplit("/", 1)[-1] in ("start", "callback")


def error_page(message: str, status: int):
    """The error page in the look of the channel the payer is in."""
    if not g.get("channel"):
        parts = request.path.split("/")
        guess = parts[2] if len(parts) > 2 and parts[1] in ("h5", "channels") else session.get("channel")
        codes = channel_codes()
        set_channel(guess if guess in codes else (session.get("channel") if session.get("channel") in codes
                                                  else (codes[0] if codes else "")))
    back = url_for("h5.menu", channel=g.channel) if g.channel in channel_codes() else "/"
    return render("h5/error.html", message=message, back=back), status


def init_app(app: Flask) -> None:
    """Wrap the app's JSON error handlers: pages answer with HTML, the API as before."""
    spec = app.error_handler_spec.setdefault(None, {})

    def previous(status, cls):
        return spec.get(status, {}).get(cls)

    json_domain, json_http, json_any = (previous(None, DomainError), previous(None, HTTPException),
                                        previous(None, Exception))

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        if not is_page_request():
            return json_domain(error)
        return error_page(error.message, error.http_status)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if not is_page_request():
            return json_http(error)
        message = error.description if error.code == 400 and "页面" in (error.description or "") else None
        return error_page(message or HTTP_PAGE_MESSAGES.get(error.code, "请求无法完成，请返回重试"), error.code)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if not is_page_request():
            return json_any(error)
        log.exception("unhandled error on a page")
        return error_page("系统繁忙，请稍后再试", 500)
