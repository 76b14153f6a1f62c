"""Request and response schemas of the API, each declared once. Money is integer fen; personal data is masked.

Request schemas derive from ``f.InSchema`` and use the bounded fields of ``app.api.fields`` (Chinese
messages, ids within their column, whole fen, text without control characters, dates 1900–2100).
Response schemas use marshmallow's plain fields: they describe what we write, not what we accept.
"""
from __future__ import annotations

from marshmallow import Schema, fields

from app.api import fields as f
from app.domain.documents import IdType
from app.domain.model import STATE_LABELS

Str = fields.String
Int = fields.Integer
ASSESSMENT_STATES = ["declared_unpaid", "paying", "paid", "voided", "refunded"]


class IdentifyIn(f.InSchema):
    name = f.Str(required=True, validate=f.Length(min=1, max=64), metadata={"description": "参保人姓名"})
    id_type = f.Str(required=True, validate=f.OneOf([t.value for t in IdType], labels=[t.label for t in IdType]),
                    metadata={"description": "证件类型"})
    id_number = f.Str(required=True, validate=f.Length(min=1, max=32), metadata={"description": "证件号码"})


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


class OptionsQuery(f.InSchema):
    year = f.Int(validate=f.Range(min=2000, max=2100))
    base_fen = f.Fen()
    grade = f.Str(max_length=16)


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


class ChooseIn(f.InSchema):
    base_fen = f.Fen(metadata={"description": "缴费基数（分/月），整数分"})
    grade = f.Str(max_length=16, metadata={"description": "缴费档次"})
    effective_month = f.Period(months_only=True, metadata={"description": "生效年月 YYYY-MM"})
    batch_debit_allowed = f.Bool(load_default=False)


class DeclareIn(f.InSchema):
    periods = f.List(f.Period(), required=True, validate=f.Length(min=1, max=60),
                     metadata={"description": "months YYYY-MM (flexible) or years YYYY (resident)"})


class AssessmentOut(Schema):
    id = Int()
    notice_number = Str()
    enrollment_id = Int(allow_none=True)
    insurance = Str()
    insurance_label = Str()
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
    late_fee_fen = Int(metadata={"description": "滞纳金 if paid today (unpaid assessments; 0 where the policy sets none)"})
    late_fee_days = Int(metadata={"description": "days overdue that the late fee counts"})
    late_fee_due = Str(allow_none=True, metadata={"description": "the day the fee fell due"})
    amount_due_fen = Int(metadata={"description": "amount_fen + late_fee_fen: what paying it today costs"})


class DeclarationOut(Schema):
    notice_number = Str()
    total_fen = Int()
    late_fee_fen = Int(metadata={"description": "滞纳金 if paid today, over the declared periods"})
    amount_due_fen = Int(metadata={"description": "total_fen + late_fee_fen"})
    assessments = fields.List(fields.Nested(AssessmentOut))


class AssessmentsQuery(f.InSchema):
    enrollment_id = f.Id()
    state = f.Str(validate=f.OneOf(ASSESSMENT_STATES, labels=[STATE_LABELS[s] for s in ASSESSMENT_STATES]))


class StatusQuery(f.InSchema):
    enrollment_id = f.Id()
    notice_number = f.Str(max_length=32)
    start = f.Period()
    end = f.Period()


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


class OrderIn(f.InSchema):
    """Who pays and through which channel come from the caller's sessions, never from the body."""

    assessment_ids = f.List(f.Id(big=True), required=True, validate=f.Length(min=1, max=60))
    method = f.Str(required=True, max_length=32,
                   metadata={"description": "provider.method, e.g. wechatpay.native, alipay.wap"})
    confirmed_amount_fen = f.Fen(minimum=1, required=True,
                                 metadata={"description": "the order amount the payer confirmed (核对订单金额), "
                                                          "late fees included"})


class PayOut(Schema):
    pay_url = Str(allow_none=True)
    qr_code = Str(allow_none=True)
    app_params = fields.Dict(allow_none=True)
    provider_ref = Str(allow_none=True)


class OrderItemOut(AssessmentOut):
    insured = fields.Nested(PersonOut)
    e_ticket_number = Str(allow_none=True)
    item_amount_fen = Int()
    late_fee_fen = Int(metadata={"description": "滞纳金 priced when the order was made; the order amount includes it"})
    late_fee_e_ticket_number = Str(allow_none=True,
                                   metadata={"description": "the late fee's own e-ticket, once posted"})


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


# looking back: history, declarations, statements, certificates, verification, contribution record
class DateRangeQuery(f.InSchema):
    start = f.Date(metadata={"description": "起始日期 YYYY-MM-DD（默认：一年前）"})
    end = f.Date(metadata={"description": "终止日期 YYYY-MM-DD（默认：今天）"})


class HistoryItemOut(Schema):
    insured = fields.Nested(PersonOut)
    insurance = Str()
    insurance_label = Str()
    period = Str()
    kind_label = Str()
    amount_fen = Int()
    amount_yuan = Str()
    e_ticket_number = Str(allow_none=True)
    late_fee_fen = Int(metadata={"description": "滞纳金 paid with it (its own payment and e-ticket number)"})
    state = Str()
    state_label = Str()


class HistoryOrderOut(Schema):
    order_no = Str()
    state = Str()
    state_label = Str()
    amount_fen = Int()
    amount_yuan = Str()
    channel = Str()
    channel_label = Str()
    provider = Str()
    method = Str()
    method_label = Str()
    paid_at = Str(allow_none=True)
    posted_at = Str(allow_none=True)
    payer = fields.Nested(PersonOut, allow_none=True, metadata={"description": "who paid (masked)"})
    proxy = fields.Boolean(metadata={"description": "paid for someone else (代他人缴费)"})
    items = fields.List(fields.Nested(HistoryItemOut))
    refunds = fields.List(fields.Nested(RefundOut))


class HistoryOut(Schema):
    start = Str()
    end = Str()
    orders = fields.List(fields.Nested(HistoryOrderOut))
    posted_count = Int()
    posted_total_fen = Int()


class DeclarationsQuery(f.InSchema):
    enrollment_id = f.Id()
    state = f.Str(validate=f.OneOf([*ASSESSMENT_STATES, "partly_paid"],
                                   labels=[STATE_LABELS[s] for s in [*ASSESSMENT_STATES, "partly_paid"]]))


class DeclaredAssessmentOut(AssessmentOut):
    declared_at = Str(allow_none=True)
    voidable = fields.Boolean()


class DeclarationInfoOut(Schema):
    notice_number = Str()
    enrollment_id = Int(allow_none=True)
    insured_number = Str(allow_none=True)
    title = Str(allow_none=True)
    declared_at = Str(allow_none=True)
    kind_labels = fields.List(Str())
    periods = fields.List(Str())
    total_fen = Int()
    total_yuan = Str()
    state = Str()
    state_label = Str()
    voidable = fields.Boolean()
    assessments = fields.List(fields.Nested(DeclaredAssessmentOut))


class VoidIn(f.InSchema):
    assessment_ids = f.List(f.Id(big=True), validate=f.Length(max=60),
                            metadata={"description": "void only these (default: every unpaid one of the notice)"})


class StatementQuery(DateRangeQuery):
    format = f.Str(load_default="xlsx", validate=f.OneOf(["xlsx", "csv"]))


class OtherPersonIn(f.InSchema):
    name = f.Str(required=True, validate=f.Length(min=1, max=64))
    id_type = f.Str(required=True, validate=f.OneOf([t.value for t in IdType], labels=[t.label for t in IdType]))
    id_number = f.Str(required=True, validate=f.Length(min=1, max=32))


class CertificateIn(f.InSchema):
    period_start = f.Period(required=True, metadata={"description": "费款所属期起 YYYY-MM（或年度 YYYY）"})
    period_end = f.Period(required=True, metadata={"description": "费款所属期止 YYYY-MM（或年度 YYYY）"})
    other_person = f.Nested(OtherPersonIn, metadata={"description": "代他人开具: that person's name and document"})


class CertificateItemOut(Schema):
    e_ticket_number = Str()
    insurance = Str()
    title = Str()
    period = Str()
    kind_label = Str()
    amount_fen = Int()
    amount_yuan = Str()
    posted_on = Str()
    treasury_on = Str()
    refunded = fields.Boolean()


class CertificateOut(Schema):
    certificate_no = Str()
    verification_code = Str(metadata={"description": "查验码, printed on the certificate"})
    kind = Str(metadata={"description": "original (开具) / reissue (补开)"})
    kind_label = Str()
    reissue_of = Str(allow_none=True, metadata={"description": "the original's number, for a re-issue"})
    person = fields.Nested(PersonOut)
    requested_by = fields.Nested(PersonOut)
    for_another_person = fields.Boolean()
    tax_authority = Str()
    period_start = Str()
    period_end = Str()
    items = fields.List(fields.Nested(CertificateItemOut))
    total_fen = Int()
    total_yuan = Str()
    total_capitals = Str()
    issued_at = Str()
    issued_on = Str()
    verify_url = Str()
    pdf_url = Str()


class PendingOut(Schema):
    e_ticket_number = Str()
    period = Str()
    amount_fen = Int()
    available_on = Str()
    message = Str()


class IssueOut(Schema):
    certificates = fields.List(fields.Nested(CertificateOut))
    pending = fields.List(fields.Nested(PendingOut), metadata={"description": "not yet in the treasury (未入库)"})


class CertificatesQuery(f.InSchema):
    issued_from = f.Date()
    issued_to = f.Date()
    e_ticket_number = f.Str(max_length=32)


class VerifyQuery(f.InSchema):
    e_ticket_number = f.Str(max_length=32)
    certificate_no = f.Str(max_length=32)
    code = f.Str(max_length=16, metadata={"description": "查验码, with certificate_no"})


class VerifyIn(VerifyQuery):
    id_number = f.Str(max_length=32,
                      metadata={"description": "optional: the document number (in the body, so no log keeps it)"})


class VerifiedItemOut(Schema):
    e_ticket_number = Str()
    title = Str()
    period = Str()
    amount_fen = Int()
    amount_yuan = Str()
    refunded = fields.Boolean()


class VerificationOut(Schema):
    genuine = fields.Boolean()
    kind = Str(metadata={"description": "e_ticket / certificate"})
    e_ticket_number = Str()
    insured = fields.Nested(PersonOut)
    person = fields.Nested(PersonOut)
    tax_authority = Str()
    title = Str()
    period = Str()
    amount_fen = Int()
    amount_yuan = Str()
    posted_on = Str()
    state = Str()
    state_label = Str()
    certificate_no = Str()
    kind_label = Str()
    reissue_of = Str(allow_none=True)
    period_start = Str()
    period_end = Str()
    total_fen = Int()
    total_yuan = Str()
    total_capitals = Str()
    issued_on = Str()
    payments = fields.List(fields.Nested(VerifiedItemOut), metadata={"description": "a certificate's payments"})


class RecordQuery(f.InSchema):
    enrollment_id = f.Id()


class RecordRowOut(Schema):
    period = Str()
    months = Int()
    kind_label = Str()
    base_yuan = Str(allow_none=True)
    grade = Str(allow_none=True)
    amount_fen = Int()
    amount_yuan = Str()
    posted_on = Str()
    e_ticket_number = Str()


class RecordSectionOut(Schema):
    enrollment_id = Int()
    insured_number = Str()
    title = Str()
    region_name = Str()
    rows = fields.List(fields.Nested(RecordRowOut))
    months = Int()
    total_fen = Int()
    total_yuan = Str()
    first_period = Str(allow_none=True)
    last_period = Str(allow_none=True)


class RecordOut(Schema):
    person = fields.Nested(PersonOut)
    generated_at = Str()
    enrollments = fields.List(fields.Nested(RecordSectionOut))
    months = Int()
    total_fen = Int()
    total_yuan = Str()
