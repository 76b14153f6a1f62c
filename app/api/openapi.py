"""The published OpenAPI tells the errors as they are.

Every error answer has one shape (``ErrorOut``, as ``app/errors.py`` writes it), and each
operation lists the error statuses it can answer: 400 where it takes input (a body that is no
JSON, a rule the input breaks), 401 where it needs a session, 404 where the path names
something, 413 and 415 where it takes a body, 422 where a schema checks its input (added by
flask-smorest), and ``default`` for the rest (500, 502, 503). 409 and 429 depend on what an
operation does, so its view declares them with ``@blp.alt_response(409, response="CONFLICT")``.
"""
from __future__ import annotations

import flask_smorest
from apispec import BasePlugin
from marshmallow import Schema

from app.api.fields import Dict, Int, Str
from app.api.parsing import register_converters


class ErrorOut(Schema):
    """What every error answer holds."""

    code = Str(required=True, metadata={"description": "stable code for programs, e.g. base_out_of_range"})
    status = Int(required=True, metadata={"description": "the HTTP status again"})
    message = Str(required=True, metadata={"description": "a Chinese message for the payer"})
    errors = Dict(required=True, metadata={"description": "field → [Chinese messages] (nested for lists and objects)"})


class ErrorResponses(BasePlugin):
    """Adds to each operation the error statuses its shape implies (see the module docstring)."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            takes_body = "requestBody" in operation
            wanted = []
            if takes_body or operation.get("parameters") or "{" in (path or ""):
                wanted.append(400)
            if operation.get("security"):
                wanted.append(401)
            if "{" in (path or ""):
                wanted.append(404)
            if takes_body:
                wanted += [413, 415]
            for status in wanted:
                responses.setdefault(str(status), _response_name(status))


def _response_name(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).name


class Api(flask_smorest.Api):
    """flask-smorest's Api, publishing our error schema and the error statuses of each operation."""

    ERROR_SCHEMA = ErrorOut

    def __init__(self, app=None, *, spec_kwargs=None, **kwargs):
        spec_kwargs = dict(spec_kwargs or {})
        spec_kwargs["extra_plugins"] = [*spec_kwargs.get("extra_plugins", ()), ErrorResponses()]
        super().__init__(app, spec_kwargs=spec_kwargs, **kwargs)

    def init_app(self, app, *, spec_kwargs=None):
        super().init_app(app, spec_kwargs=spec_kwargs)
        register_converters(self)
