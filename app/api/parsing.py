"""How a request becomes arguments, and what it may contain before a view sees it.

- ``RequestParser``: webargs' Flask parser, with the failures it leaves to Flask (a body that
  is not JSON, JSON nested past the parser's recursion limit, a non-JSON body where JSON is
  expected) turned into our errors: 400 ``invalid_json`` and 415.
- ``Blueprint``: flask-smorest's, parsing with it; every API blueprint is one of these.
- URL converters: ``<int:...>`` accepts ids of a 32-bit column only (1 … 2³¹−1), and a plain
  ``<name>`` segment is 1–64 characters without control characters; anything else is a 404
  before it reaches PostgreSQL.
- A query string holding control characters is refused (400) for every route, pages included.
"""
from __future__ import annotations

import re

import flask_smorest
from flask import Flask, request
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import UnsupportedMediaType
from werkzeug.routing import IntegerConverter, UnicodeConverter

from app.api.fields import ID_MAX
from app.domain.errors import InvalidInput

INVALID_JSON = ("invalid_json", "提交的内容不是有效的JSON，请检查后重试")
SEGMENT_MAX = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RequestParser(FlaskParser):
    """webargs' parser; a body it cannot read as JSON is our 400 or 415, never Flask's 500."""

    def _raw_load_json(self, req):
        body = req.get_data(cache=True)
        if not is_json_request(req):
            if body:
                raise UnsupportedMediaType()
            return core.missing
        try:
            return core.parse_json(body)
        except RecursionError:  # JSON nested thousands deep
            raise InvalidInput(*INVALID_JSON) from None

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise InvalidInput(*INVALID_JSON)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, parsing with ``RequestParser``."""

    ARGUMENTS_PARSER = RequestParser()


class IdConverter(IntegerConverter):
    """``<int:...>``: a row id, 1 … 2³¹−1 (the columns are 32-bit)."""

    def __init__(self, url_map, fixed_digits=0, min=1, max=ID_MAX, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class SegmentConverter(UnicodeConverter):
    """A plain path segment: 1–64 characters, none of them control characters."""

    def __init__(self, url_map, minlength=1, maxlength=SEGMENT_MAX, length=None):
        super().__init__(url_map, minlength=minlength, maxlength=maxlength, length=length)
        self.regex = f"[^/\\x00-\\x1f\\x7f]{{{minlength},{maxlength}}}"


def _refuse_control_characters():
    if any(_CONTROL.search(k) or _CONTROL.search(v) for k, v in request.args.items(multi=True)):
        raise InvalidInput("invalid_characters", "请求参数中含有控制字符或无效字符")


def init_app(app: Flask) -> None:
    """Bounded converters for every route (call before any blueprint registers) and the query check."""
    app.url_map.converters.update(int=IdConverter, default=SegmentConverter, string=SegmentConverter)
    app.before_request(_refuse_control_characters)


def register_converters(api: flask_smorest.Api) -> None:
    """Publish the converters' bounds in the OpenAPI path parameters."""
    api.register_converter(IdConverter, lambda c: {"type": "integer", "minimum": c.min, "maximum": c.max})
    api.register_converter(SegmentConverter, lambda c: {"type": "string", "minLength": 1, "maxLength": SEGMENT_MAX})
