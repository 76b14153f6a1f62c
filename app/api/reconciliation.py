"""Reconciliation (对账) for the back office: runs per day and provider, their differences, resolutions.

Behind the bureau API key (``X-Api-Key``), like the bureaus' push API. Read-only but for the
resolution of a difference, which records who closed it and why.
"""
from __future__ import annotations

from dataclasses import asdict

from flask import Flask
from flask.views import MethodView
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields, validate

from app.api.bureau import API_KEY, _authorize
from app.api.deps import container
from app.domain import reconciliation as rules
from app.services import reconciliation

blp = Blueprint("reconciliation", __name__, url_prefix="/api/v1/bureau/reconciliations",
                description="对账：渠道对账单与我方缴费、退款、入库的核对结果及差异处理")


def init_app(app: Flask, api: Api) -> None:
    """Register the reconciliation API."""
    api.register_blueprint(blp)


# schemas
class RunQuery(Schema):
    day = fields.Date(metadata={"description": "对账日期 YYYY-MM-DD（北京时间）"})
    provider = fields.String(validate=validate.Length(max=16), metadata={"description": "wechatpay, alipay, ..."})


class DifferenceQuery(RunQuery):
    kind = fields.String(validate=validate.OneOf(rules.KINDS))
    unresolved = fields.Boolean(load_default=False, metadata={"description": "只看未处理的差异"})
    after_id = fields.Integer(load_default=0, validate=validate.Range(min=0), metadata={"description": "翻页：上一页最后的id"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class TotalsOut(Schema):
    payment_count = fields.Integer()
    payment_fen = fields.Integer()
    refund_count = fields.Integer()
    refund_fen = fields.Integer()


class RunOut(Schema):
    day = fields.Date()
    provider = fields.String()
    state = fields.String(metadata={"description": "done, or unavailable when the statement could not be had"})
    statement = fields.Nested(TotalsOut, metadata={"description": "渠道对账单"})
    ours = fields.Nested(TotalsOut, metadata={"description": "我方记录"})
    difference_count = fields.Integer()
    error = fields.String(allow_none=True)
    started_at = fields.DateTime()
    finished_at = fields.DateTime()


class DifferenceOut(Schema):
    id = fields.Integer()
    day = fields.Date()
    provider = fields.String()
    kind = fields.String()
    order_no = fields.String(allow_none=True)
    refund_no = fields.String(allow_none=True)
    provider_amount_fen = fields.Integer(allow_none=True)
    our_amount_fen = fields.Integer(allow_none=True)
    detail = fields.String()
    found_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolution_note = fields.String(allow_none=True)


class ResolutionIn(Schema):
    operator = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={"description": "处理人"})
    note = fields.String(required=True, validate=validate.Length(min=1, max=500), metadata={"description": "处理说明"})


# views
@blp.route("")
class Runs(MethodView):
    @blp.arguments(RunQuery, location="query")
    @blp.response(200, RunOut(many=True))
    @blp.doc(security=API_KEY)
    def get(self, query):
        """Reconciliation runs of a day and/or provider, newest day first."""
        _authorize()
        return [asdict(run) for run in reconciliation.list_runs(query.get("day"), query.get("provider"),
                                                                container().reconciliation_book)]


@blp.route("/differences")
class Differences(MethodView):
    @blp.arguments(DifferenceQuery, location="query")
    @blp.response(200, DifferenceOut(many=True))
    @blp.doc(security=API_KEY)
    def get(self, query):
        """Recorded differences (对账差异), oldest first, paged by id."""
        _authorize()
        return [asdict(d) for d in reconciliation.list_differences(
            container().reconciliation_book, query.get("day"), query.get("provider"), query.get("kind"),
            query["unresolved"], query["after_id"], query["limit"])]


@blp.route("/differences/<int:difference_id>/resolution")
class Resolution(MethodView):
    @blp.arguments(ResolutionIn)
    @blp.response(200, DifferenceOut)
    @blp.doc(security=API_KEY)
    def put(self, body, difference_id: int):
        """Resolve a difference with the operator's name and a note; a resolved one answers 409."""
        _authorize()
        c = container()
        return asdict(reconciliation.resolve_difference(difference_id, body["operator"], body["note"],
                                                        c.reconciliation_book, c.clock))
