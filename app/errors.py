"""One error shape for every failure: ``{code, status, message, errors}``, in Chinese.

Domain errors keep their stable code and Chinese message; input that cannot be parsed is 400
``invalid_json`` (``app.api.parsing``), input that breaks a schema is 422 with each field's
Chinese message (``app.api.fields``); HTTP errors (404, 405, 413, 415, ...) get a code and a
Chinese message from ``HTTP_MESSAGES``; anything unexpected is logged with context and
answered as a plain 500 — never Flask's English page.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from app.domain.errors import DomainError

log = logging.getLogger(__name__)

HTTP_MESSAGES = {
    400: ("bad_request", "请求有误，请检查后重试"),
    401: ("unauthorized", "请先完成身份确认"),
    403: ("forbidden", "无权访问"),
    404: ("not_found", "请求的内容不存在"),
    405: ("method_not_allowed", "不支持该请求方式"),
    409: ("conflict", "当前状态不允许该操作"),
    413: ("payload_too_large", "提交的内容过大，请精简后重试"),
    414: ("uri_too_long", "请求地址过长"),
    415: ("unsupported_media_type", "不支持的提交格式，请以JSON提交"),
    422: ("invalid_input", "提交的信息格式不正确，请检查后重试"),
    429: ("too_many_requests", "操作过于频繁，请稍后再试"),
    431: ("headers_too_large", "请求头过大"),
    500: ("internal_error", "系统繁忙，请稍后再试"),
    502: ("upstream_error", "支付或身份服务暂时无法访问，请稍后再试"),
    503: ("unavailable", "服务暂时不可用，请稍后再试"),
}
FALLBACK = ("http_error", "请求无法完成，请稍后再试")


def error_body(code: str, status: int, message: str, errors: dict | None = None):
    return jsonify({"code": code, "status": status, "message": message, "errors": errors or {}}), status


def field_errors(messages) -> dict:
    """webargs' ``{location: {field: [..]}}`` (or ``{location: [..]}``) as ``{field: [..]}``."""
    errors: dict = {}
    if not isinstance(messages, dict):
        return {"_request": list(messages) if isinstance(messages, (list, tuple)) else [str(messages)]}
    for location, found in messages.items():
        if isinstance(found, dict):
            errors.update(found)
        else:
            errors.setdefault("_" + str(location), []).extend(found if isinstance(found, list) else [str(found)])
    return errors


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        errors = {error.field: [error.message]} if error.field else {}
        return error_body(error.code, error.http_status, error.message, errors)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        code, message = HTTP_MESSAGES.get(error.code, FALLBACK)
        data = getattr(error, "data", None) or {}
        errors = field_errors(data["messages"]) if "messages" in data else {}
        return error_body(code, error.code, message, errors)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error")
        code, message = HTTP_MESSAGES[500]
        return error_body(code, 500, message)
