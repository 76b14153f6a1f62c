"""Looking back over HTTP: history, declared information and voiding, statements, certificates,
public verification and the contribution record. Thin views: parse, call a service, render."""
from __future__ import annotations

from flask import Flask, Response, url_for
from flask.views import MethodView
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields, validate

from app.api.deps import container, session_person_id
from app.api.schemas import AssessmentOut, PersonOut, RefundOut
from app.limits import init_limiter, verification_limit
from app.services import certificates, lookback, lookback_declarations

blp = Blueprint("lookback", __name__, url_prefix="/api/v1",
                description="回看：缴费记录、已申报信息与申报作废、缴费清单、完税（费）证明与查验、缴费证明")
SESSION = [{"sessionToken": []}]
Str, Int = fields.String, fields.Integer
MONTH = validate.Regexp(r"^\d{4}(-\d{2})?$", error="应为年月，如2026-01")


def init_app(app: Flask, api: Api) -> None:
    """Register the API (the public verification page registers with the pages) and the shared limiter."""
    init_limiter(app)
    api.register_blueprint(blp)


# schemas
class DateRangeQuery(Schema):
    start = fields.Date(metadata={"description": "起始日期 YYYY-MM-DD（默认：一年前）"})
    end = fields.Date(metadata={"description": "终止日期 YYYY-MM-DD（默认：今天）"})


class HistoryItemOut(Schema):
    insured = fields.Nested(PersonOut)
    insurance = Str()
    insurance_label = Str()
    period = Str()
    kind_label = Str()
    amount_fen = Int()
    amount_yuan = Str()
    e_ticket_number = Str(allow_none=True)
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


class DeclarationsQuery(Schema):
    enrollment_id = Int()
    state = Str(validate=validate.OneOf(["declared_unpaid", "paying", "paid", "voided", "refunded", "partly_paid"]))


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


class VoidIn(Schema):
    assessment_ids = fields.List(Int(), validate=validate.Length(max=60),
                                 metadata={"description": "void only these (default: every unpaid one of the notice)"})


class StatementQuery(DateRangeQuery):
    format = Str(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"]))


class OtherPersonIn(Schema):
    name = Str(required=True, validate=validate.Length(min=1, max=64))
    id_type = Str(required=True, validate=validate.Length(min=1, max=32))
    id_number = Str(required=True, validate=validate.Length(min=1, max=32))


class CertificateIn(Schema):
    period_start = Str(required=True, validate=MONTH, metadata={"description": "费款所属期起 YYYY-MM"})
    period_end = Str(required=True, validate=MONTH, metadata={"description": "费款所属期止 YYYY-MM"})
    other_person = fields.Nested(OtherPersonIn, metadata={"description": "代他人开具: that person's name and document"})


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


class CertificatesQuery(Schema):
    issued_from = fields.Date()
    issued_to = fields.Date()
    e_ticket_number = Str(validate=validate.Length(max=32))


class VerifyQuery(Schema):
    e_ticket_number = Str(validate=validate.Length(max=32))
    certificate_no = Str(validate=validate.Length(max=32))
    code = Str(validate=validate.Length(max=16), metadata={"description": "查验码, with certificate_no"})


class VerifyIn(VerifyQuery):
    id_number = Str(validate=validate.Length(max=32),
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


class RecordQuery(Schema):
    enrollment_id = Int()


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


def _file(body: bytes, content_type: str, filename: str, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(body, content_type=content_type,
                    headers={"Content-Disposition": f'{disposition}; filename="{filename}"',
                             "Cache-Control": "no-store"})


def _with_pdf_url(view: dict) -> dict:
    return {**view, "pdf_url": url_for("lookback.CertificatePdf", certificate_no=view["certificate_no"])}


# history and declarations
@blp.route("/payment-history")
class PaymentHistory(MethodView):
    @blp.arguments(DateRangeQuery, location="query")
    @blp.response(200, HistoryOut)
    @blp.doc(security=SESSION)
    def get(self, query):
        """Payment history (缴费记录): orders paid, their items, e-ticket numbers and refunds."""
        c = container()
        return lookback.payment_history(session_person_id(), c.uow(), c.clock, query.get("start"), query.get("end"))


@blp.route("/declarations")
class DeclaredInformation(MethodView):
    @blp.arguments(DeclarationsQuery, location="query")
    @blp.response(200, DeclarationInfoOut(many=True))
    @blp.doc(security=SESSION)
    def get(self, query):
        """Declared information (已申报信息查询), newest first."""
        return lookback_declarations.declared_information(session_person_id(), container().uow(), **query)


@blp.route("/declarations/<notice_number>")
class DeclarationDetail(MethodView):
    @blp.response(200, DeclarationInfoOut)
    @blp.doc(security=SESSION)
    def get(self, notice_number):
        """One declaration by notice number (告知单号), with details."""
        return lookback_declarations.show_declaration(session_person_id(), notice_number, container().uow())


@blp.route("/declarations/<notice_number>/void")
class VoidDeclaration(MethodView):
    @blp.arguments(VoidIn)
    @blp.response(200, DeclarationInfoOut)
    @blp.doc(security=SESSION)
    def post(self, data, notice_number):
        """Void an unpaid declaration (申报作废); refused while being paid and once paid."""
        c = container()
        return lookback_declarations.void_declaration(session_person_id(), notice_number, c.uow(), c.clock,
                                                      assessment_ids=data.get("assessment_ids"))


# statements
@blp.route("/statements")
class Statement(MethodView):
    @blp.arguments(StatementQuery, location="query")
    @blp.doc(security=SESSION, responses={"200": {"description": "缴费清单 (xlsx or csv)", "content": {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}, "text/csv": {}}}})
    def get(self, query):
        """Payment statement (缴费清单) of a payment-date range, as xlsx or csv."""
        c = container()
        statement = lookback.payment_statement(session_person_id(), c.uow(), c.clock, query.get("start"),
                                               query.get("end"))
        name = f"statement-{statement['start']}-{statement['end']}"
        if query["format"] == "csv":
            return _file(c.documents.statement_csv(statement), "text/csv; charset=utf-8", name + ".csv")
        return _file(c.documents.statement_xlsx(statement),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name + ".xlsx")


# certificates
@blp.route("/certificates")
class Certificates(MethodView):
    @blp.arguments(CertificateIn)
    @blp.response(201, IssueOut)
    @blp.doc(security=SESSION)
    def post(self, data):
        """Issue payment certificates (开具完税（费）证明) for a fee-period range, for oneself or another person."""
        c = container()
        issued = certificates.issue_certificate(session_person_id(), data["period_start"], data["period_end"],
                                                c.uow(), c.clock, c.policies, c.certificates,
                                                other_person=data.get("other_person"))
        return {**issued, "certificates": [_with_pdf_url(v) for v in issued["certificates"]]}

    @blp.arguments(CertificatesQuery, location="query")
    @blp.response(200, CertificateOut(many=True))
    @blp.doc(security=SESSION)
    def get(self, query):
        """Certificates issued in a date range, optionally carrying an e-ticket number (补开 starts here)."""
        c = container()
        found = certificates.find_certificates(session_person_id(), c.uow(), c.clock,
                                               c.certificates, **query)
        return [_with_pdf_url(v) for v in found]


@blp.route("/certificates/<certificate_no>")
class CertificateDetail(MethodView):
    @blp.response(200, CertificateOut)
    @blp.doc(security=SESSION)
    def get(self, certificate_no):
        """One certificate."""
        c = container()
        return _with_pdf_url(certificates.show_certificate(session_person_id(), certificate_no, c.uow(),
                                                           c.certificates))


@blp.route("/certificates/<certificate_no>.pdf")
class CertificatePdf(MethodView):
    @blp.doc(security=SESSION, responses={"200": {"description": "完税（费）证明 PDF",
                                                  "content": {"application/pdf": {}}}})
    def get(self, certificate_no):
        """The certificate as a PDF, with its QR code to the verification page."""
        c = container()
        document = certificates.certificate_document(session_person_id(), certificate_no, c.uow(),
                                                     c.certificates)
        filename = f"certificate-{document['certificate_no']}.pdf"
        return _file(c.documents.certificate_pdf(document), "application/pdf", filename, inline=True)


@blp.route("/certificates/<certificate_no>/reissue")
class Reissue(MethodView):
    @blp.response(201, CertificateOut)
    @blp.doc(security=SESSION)
    def post(self, certificate_no):
        """Re-issue (补开) a certificate: a new one, marked as re-issued, linked to the original."""
        c = container()
        return _with_pdf_url(certificates.reissue_certificate(session_person_id(), certificate_no, c.uow(), c.clock,
                                                              c.certificates))


@blp.route("/verifications")
class Verification(MethodView):
    @blp.arguments(VerifyQuery, location="query")
    @blp.response(200, VerificationOut)
    def get(self, query):
        """Public verification (查验) by e-ticket number or certificate number + code; rate-limited."""
        c = container()
        with verification_limit():
            return certificates.verify_asked(query, c.uow(), c.policies, c.certificates)

    @blp.arguments(VerifyIn)
    @blp.response(200, VerificationOut)
    def post(self, data):
        """Public verification (查验) with the document number too; rate-limited with the GET."""
        c = container()
        with verification_limit():
            return certificates.verify_asked(data, c.uow(), c.policies, c.certificates)


# contribution record
@blp.route("/contribution-record")
class ContributionRecord(MethodView):
    @blp.arguments(RecordQuery, location="query")
    @blp.response(200, RecordOut)
    @blp.doc(security=SESSION)
    def get(self, query):
        """The contribution record (缴费证明): paid periods per enrollment."""
        c = container()
        return lookback.contribution_record(session_person_id(), c.uow(), c.clock, c.policies, **query)


@blp.route("/contribution-record.pdf")
class ContributionRecordPdf(MethodView):
    @blp.arguments(RecordQuery, location="query")
    @blp.doc(security=SESSION, responses={"200": {"description": "缴费证明 PDF", "content": {"application/pdf": {}}}})
    def get(self, query):
        """The contribution record as a PDF."""
        c = container()
        record = lookback.contribution_record_document(session_person_id(), c.uow(), c.clock, c.policies, **query)
        return _file(c.documents.record_pdf(record), "application/pdf", "contribution-record.pdf", inline=True)


@blp.route("/contribution-record.png")
class ContributionRecordImage(MethodView):
    @blp.arguments(RecordQuery, location="query")
    @blp.doc(security=SESSION, responses={"200": {"description": "缴费证明图片（保存到相册）",
                                                  "content": {"image/png": {}}}})
    def get(self, query):
        """The contribution record as a PNG image, to save to the phone's album."""
        c = container()
        record = lookback.contribution_record_document(session_person_id(), c.uow(), c.clock, c.policies, **query)
        return _file(c.documents.record_png(record), "image/png", "contribution-record.png",
                     inline=True)
