"""Request and response schemas of the API. Money is integer fen; personal data is masked."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.domain.documents import IdType

Str = fields.String
Int = fields.Integer


class IdentifyIn(Schema):
    name = Str(required=True, validate=validate.Length(min=1, max=64), metadata={"description": "参保人姓名"})
    id_type = Str(required=True, validate=validate.OneOf([t.value for t in IdType]),
                  metadata={"description": "证件类型"})
    id_number = Str(required=True, validate=validate.Length(min=1, max=32), metadata={"description": "证件号码"})


class PersonOut(Schema):
    id_type = Str()
    id_type_label = Str()
    id_number = Str(metadata={"description": "masked"})
    name = Str(metadata={"description": "masked"})


class EnrollmentOut(Schema):
    id = Int()
    insured_number = Str()
    insurance = Str()
    insurance_label = Str()
    category = Str()
    title = Str()
    region = Str()
    status = Str()
    start_month = Str()


class IdentifyOut(Schema):
    token = Str(metadata={"description": "send as the X-Session-Token header"})
    expires_in = Int()
    person = fields.Nested(PersonOut)
    enrollments = fields.List(fields.Nested(EnrollmentOut))


class ChoiceOut(Schema):
    id = Int()
    effective_month = Str()
    base_fen = Int(allow_none=True)
    base_yuan = Str(allow_none=True)
    grade = Str(allow_none=True)
    batch_debit_allowed = fields.Boolean()
    voided = fields.Boolean()
    amount_per_period_fen = Int()


class EnrollmentDetailOut(EnrollmentOut):
    choices = fields.List(fields.Nested(ChoiceOut))
    current_choice = fields.Nested(ChoiceOut, allow_none=True)


class OptionsQuery(Schema):
    year = Int(validate=validate.Range(min=2000, max=2100))
    base_fen = Int(validate=validate.Range(min=0))
    grade = Str()


class GradeOut(Schema):
    code = Str()
    label = Str()
    base_fen = Int(allow_none=True)
    amount_fen = Int()
    amount_per_year_fen = Int()


class PreviewOut(Schema):
    base_fen = Int(allow_none=True)
    grade = Str(allow_none=True)
    amount_per_period_fen = Int()
    amount_per_year_fen = Int()
    amount_per_period_yuan = Str()


class OptionsOut(Schema):
    enrollment_id = Int()
    year = Int()
    scheme = Str(metadata={"description": "base / grade / fixed"})
    period_unit = Str()
    title = Str()
    region_name = Str()
    rate = Str(allow_none=True)
    personal_account_rate = Str(allow_none=True)
    base_min_fen = Int(allow_none=True)
    base_max_fen = Int(allow_none=True)
    fixed_amount_fen = Int(allow_none=True)
    subsidy_fen = Int(allow_none=True)
    collection_start = Str()
    collection_end = Str()
    back_payment_months = Int()
    grades = fields.List(fields.Nested(GradeOut))
    preview = fields.Nested(PreviewOut, allow_none=True)


class ChooseIn(Schema):
    base_fen = Int(validate=validate.Range(min=0), metadata={"description": "缴费基数（分/月）"})
    grade = Str(validate=validate.Length(max=16), metadata={"description": "缴费档次"})
    effective_month = Str(validate=validate.Regexp(r"^\d{4}-\d{2}$"), metadata={"description": "生效年月 YYYY-MM"})
    batch_debit_allowed = fields.Boolean(load_default=False)


class DeclareIn(Schema):
    periods = fields.List(Str(), required=True, validate=validate.Length(min=1, max=60),
                          metadata={"description": "months YYYY-MM (flexible) or years YYYY (resident)"})


class AssessmentOut(Schema):
    id = Int()
    notice_number = Str()
    enrollment_id = Int(allow_none=True)
    insurance = Str()
    insurance_label = Str()
    title = Str(metadata={"description": "险种 with its category when known, e.g. 城乡居民基本养老保险"})
    region = Str()
    period = Str()
    period_start = Str()
    period_end = Str()
    kind = Str()
    kind_label = Str()
    base_fen = Int(allow_none=True)
    rate = Str(allow_none=True)
    grade = Str(allow_none=True)
    amount_fen = Int()
    amount_yuan = Str()
    subsidy_fen = Int(allow_none=True)
    state = Str()
    status_label = Str()
    reason = Str(allow_none=True)


class DeclarationOut(Schema):
    notice_number = Str()
    total_fen = Int()
    assessments = fields.List(fields.Nested(AssessmentOut))


class AssessmentsQuery(Schema):
    enrollment_id = Int()
    state = Str(validate=validate.OneOf(["declared_unpaid", "paying", "paid", "voided", "refunded"]))


class StatusQuery(Schema):
    enrollment_id = Int()
    notice_number = Str(validate=validate.Length(max=32))
    start = Str(validate=validate.Regexp(r"^\d{4}(-\d{2})?$"))
    end = Str(validate=validate.Regexp(r"^\d{4}(-\d{2})?$"))


class StatusRowOut(Schema):
    enrollment_id = Int(allow_none=True)
    insured_number = Str()
    title = Str()
    period = Str()
    status = Str(metadata={"description": "undeclared_unpaid (未缴费) / declared_unpaid (未支付) / paid (已缴纳)"})
    status_label = Str()
    assessment = fields.Nested(AssessmentOut, allow_none=True)


class StatusOut(Schema):
    periods = fields.List(fields.Nested(StatusRowOut))
    paid = fields.List(fields.Nested(StatusRowOut))
    declared_unpaid = fields.List(fields.Nested(StatusRowOut))
    undeclared_unpaid = fields.List(fields.Nested(StatusRowOut))


class RejectedRowOut(Schema):
    row = Int()
    insured_number = Str(allow_none=True)
    code = Str()
    message = Str()


class ImportReportOut(Schema):
    created = Int()
    updated = Int()
    unchanged = Int()
    rejected = fields.List(fields.Nested(RejectedRowOut))


class OrderIn(Schema):
    assessment_ids = fields.List(Int(), required=True, validate=validate.Length(min=1, max=60))
    method = Str(required=True, metadata={"description": "provider.method, e.g. wechatpay.native, alipay.wap"})
    confirmed_amount_fen = Int(required=True, validate=validate.Range(min=1),
                               metadata={"description": "the order amount the payer confirmed (核对订单金额)"})
    channel = Str(load_default="api", validate=validate.Length(max=32))
    payer_ref = Str(validate=validate.Length(max=128), metadata={"description": "payer id at the provider (openid)"})


class PayOut(Schema):
    pay_url = Str(allow_none=True)
    qr_code = Str(allow_none=True)
    app_params = fields.Dict(allow_none=True)
    provider_ref = Str(allow_none=True)


class OrderItemOut(AssessmentOut):
    insured = fields.Nested(PersonOut)
    e_ticket_number = Str(allow_none=True)
    item_amount_fen = Int()


class RefundOut(Schema):
    refund_no = Str()
    amount_fen = Int()
    state = Str()
    state_label = Str()
    reason = Str()


class OrderOut(Schema):
    order_no = Str()
    state = Str()
    state_label = Str()
    amount_fen = Int()
    amount_yuan = Str()
    channel = Str()
    channel_user = Str(allow_none=True)
    provider = Str()
    method = Str()
    description = Str()
    created_at = Str()
    expires_at = Str()
    paid_at = Str(allow_none=True)
    pay = fields.Nested(PayOut)
    items = fields.List(fields.Nested(OrderItemOut))
    refunds = fields.List(fields.Nested(RefundOut))
