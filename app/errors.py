"""One error shape for every failure: ``{code, status, message, errors}``.

Domain errors keep their stable code and Chinese message; malformed input is 422 with the
fields at fault; anything unexpected is logged with context and answered as a plain 500.
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
    415: ("unsupported_media_type", "不支持的提交格式"),
    422: ("invalid_input", "提交的信息格式不正确，请检查后重试"),
    429: ("too_many_requests", "操作过于频繁，请稍后再试"),
}


def error_body(code: str, status: int, message: str, errors: dict | None = None):
    return jsonify({"code": code, "status": status, "message": message, "errors": errors or {}}), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        errors = {error.field: [error.message]} if error.field else {}
        return error_body(error.code, error.http_status, error.message, errors)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        code, message = HTTP_MESSAGES.get(error.code, ("http_error", "请求无法完成"))
        errors = {}
        data = getattr(error, "data", None) or {}
        if "messages" in data:  # webargs / marshmallow validation: {location: {field: [..]}}
            for fields in data["messages"].values():
                errors.update(fields)
        return error_body(code, error.code, message, errors)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error")
        return error_body("internal_error", 500, "系统繁忙，请稍后再试")
