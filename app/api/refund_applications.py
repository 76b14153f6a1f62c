"""社保费退费申请 over the API (payer side): start, list refundable fees, submit, look back, refile an account.

Behind the payer's session token (X-Session-Token, as the agreement API): the applicant is the
person of the first token. The back office reaches the same service through its own pages.
"""
from __future__ import annotations

from flask import Flask
from flask.views import MethodView
from flask_smorest import Api
from marshmallow import Schema, fields

from app.api import fields as f
from app.api.deps import container, session_payer_and_persons
from app.api.parsing import Blueprint
from app.domain.policy import INSURANCE_LABELS
from app.domain.refund_applications import MAX_REASON_TEXT, REASON_TYPES
from app.services import refund_applications as ra

blp = Blueprint("refund_applications", __name__, url_prefix="/api/v1",
                description="社保费退费申请：应退费明细、提交申请、查询办理状态")
SESSION = [{"sessionToken": []}]
Str, Int, Bool = fields.String, fields.Integer, fields.Boolean


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(blp)


class RefundItemsQuery(f.InSchema):
    insurance = f.Str(required=True, validate=f.OneOf(sorted(INSURANCE_LABELS),
                                                      labels=[INSURANCE_LABELS[k] for k in sorted(INSURANCE_LABELS)]))
    period_start = f.Period(required=True, months_only=True, metadata={"description": "所属期起 YYYY-MM"})
    period_end = f.Period(required=True, months_only=True, metadata={"description": "所属期止 YYYY-MM"})


class RefundApplicationIn(f.InSchema):
    insurance = f.Str(required=True, validate=f.OneOf(sorted(INSURANCE_LABELS),
                                                      labels=[INSURANCE_LABELS[k] for k in sorted(INSURANCE_LABELS)]))
    reason_type = f.Str(required=True, validate=f.OneOf(list(REASON_TYPES),
                                                        labels=[v[0] for v in REASON_TYPES.values()]))
    reason_text = f.Str(required=True, validate=f.Length(min=1, max=MAX_REASON_TEXT),
                        metadata={"description": "退费申请理由"})
    bank_account_id = f.Id(required=True, metadata={"description": "已备案的银行账户"})
    assessment_ids = f.List(f.Id(big=True), required=True, validate=f.Length(min=1, max=ra.MAX_ITEMS),
                            metadata={"description": "勾选的应退费明细（应缴费额编号）"})


class RefundRefileIn(f.InSchema):
    bank_account_id = f.Id(required=True, metadata={"description": "另一个已备案的银行账户"})


class RefundPersonOut(Schema):
    name = Str(metadata={"description": "masked"})
    id_type = Str()
    id_type_label = Str()
    id_number = Str(metadata={"description": "masked"})
    nationality = Str()


class RefundChoiceOut(Schema):
    code = Str()
    label = Str()
    source = Str()


class RefundAccountOut(Schema):
    id = Int()
    bank_name = Str()
    account_no = Str(metadata={"description": "masked"})
    account_kind_label = Str()


class RefundStartOut(Schema):
    person = fields.Nested(RefundPersonOut)
    insurances = fields.List(fields.Nested(RefundChoiceOut))
    bank_accounts = fields.List(fields.Nested(RefundAccountOut))
    needs_bank_account = Bool()
    reason_types = fields.List(fields.Nested(RefundChoiceOut))


class RefundItemOut(Schema):
    assessment_id = Int()
    e_ticket_number = Str()
    insurance_label = Str()
    period = Str()
    notice_number = Str()
    amount_fen = Int()
    amount_yuan = Str()
    posted_at = Str()
    treasury_on = Str()
    selectable = Bool()
    why_not = Str(allow_none=True)


class RefundPayoutOut(Schema):
    route = Str()
    route_label = Str()
    amount_fen = Int()
    amount_yuan = Str()
    state = Str()
    reason = Str(allow_none=True)


class RefundApplicationOut(Schema):
    application_no = Str()
    state = Str(metadata={"description": "submitted / under_review / returned / paying_out / refunded / rejected"})
    state_label = Str(metadata={"description": "受理 / 审核中 / 已退回 / 退费中 / 已退费 / 不予退费"})
    insurance = Str()
    insurance_label = Str()
    reason_type = Str()
    reason_type_label = Str()
    reason_text = Str()
    total_fen = Int()
    total_yuan = Str()
    items = Int()
    channel = Str()
    created_at = Str()
    decided_reason = Str(allow_none=True, metadata={"description": "不予退费或退回的原因"})
    finished_at = Str(allow_none=True)
    payouts = fields.List(fields.Nested(RefundPayoutOut))
    bank_account = fields.Dict()


def _applicant() -> ra.Applicant:
    payer, _ = session_payer_and_persons()
    return ra.Applicant(person_id=payer, channel="api")


@blp.route("/refund-applications/start")
class Start(MethodView):
    @blp.response(200, RefundStartOut)
    @blp.doc(security=SESSION)
    def get(self):
        """The applicant's details (masked), insurances, filed accounts and the reason types."""
        return ra.refund_start(_applicant(), container().uow())


@blp.route("/refund-applications/items")
class Items(MethodView):
    @blp.arguments(RefundItemsQuery, location="query")
    @blp.response(200, RefundItemOut(many=True))
    @blp.doc(security=SESSION)
    def get(self, query):
        """添加应退费明细: the fees paid for the periods; those in the treasury and free are selectable."""
        c = container()
        return ra.list_refundable_items(_applicant(), query["insurance"], query["period_start"], query["period_end"],
                                        c.uow(), c.clock, c.certificates)


@blp.route("/refund-applications")
class Applications(MethodView):
    @blp.response(200, RefundApplicationOut(many=True))
    @blp.doc(security=SESSION)
    def get(self):
        """The applications of the identified persons and how each stands."""
        _, persons = session_payer_and_persons()
        return ra.list_refund_applications(persons, container().uow())

    @blp.arguments(RefundApplicationIn)
    @blp.response(201, RefundApplicationOut)
    @blp.doc(security=SESSION)
    def post(self, data):
        """Submit a refund application (退费申请成功 answers its number)."""
        c = container()
        return ra.submit_refund_application(_applicant(), data, c.uow(), c.clock, c.certificates)


@blp.route("/refund-applications/<application_no>")
class Application(MethodView):
    @blp.response(200, RefundApplicationOut)
    @blp.doc(security=SESSION)
    def get(self, application_no):
        """One application, with its payouts and the reason when it was rejected or returned."""
        _, persons = session_payer_and_persons()
        return ra.get_refund_application(application_no, persons, container().uow())


@blp.route("/refund-applications/<application_no>/bank-account")
class Refile(MethodView):
    @blp.arguments(RefundRefileIn)
    @blp.response(200, RefundApplicationOut)
    @blp.doc(security=SESSION)
    def post(self, data, application_no):
        """已退回: send the refund to another filed account."""
        _, persons = session_payer_and_persons()
        c = container()
        return ra.refile_refund_account(application_no, persons, data["bank_account_id"], c.uow(), c.payments)
