"""Looking back over HTTP: history, declared information and voiding, statements, certificates,
public verification and the contribution record. Thin views: parse, call a service, render."""
from __future__ import annotations

from flask import Flask, Response, url_for
from flask.views import MethodView
from flask_smorest import Api

from app.api.deps import container, session_person_id
from app.api.parsing import Blueprint
from app.api.schemas import (CertificateIn, CertificateOut, CertificatesQuery, DateRangeQuery, DeclarationInfoOut,
                             DeclarationsQuery, HistoryOut, IssueOut, RecordOut, RecordQuery, StatementQuery,
                             VerificationOut, VerifyIn, VerifyQuery, VoidIn)
from app.limits import init_limiter, verification_limit
from app.services import certificates, lookback, lookback_declarations

blp = Blueprint("lookback", __name__, url_prefix="/api/v1",
                description="回看：缴费记录、已申报信息与申报作废、缴费清单、完税（费）证明与查验、缴费证明")
SESSION = [{"sessionToken": []}]


def init_app(app: Flask, api: Api) -> None:
    """Register the API (the public verification page registers with the pages) and the shared limiter."""
    init_limiter(app)
    api.register_blueprint(blp)


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
    @blp.alt_response(409, response="CONFLICT")
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
    @blp.alt_response(409, response="CONFLICT")
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
    @blp.alt_response(409, response="CONFLICT")
    def post(self, certificate_no):
        """Re-issue (补开) a certificate: a new one, marked as re-issued, linked to the original."""
        c = container()
        return _with_pdf_url(certificates.reissue_certificate(session_person_id(), certificate_no, c.uow(), c.clock,
                                                              c.certificates))


@blp.route("/verifications")
class Verification(MethodView):
    @blp.arguments(VerifyQuery, location="query")
    @blp.response(200, VerificationOut)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def get(self, query):
        """Public verification (查验) by e-ticket number or certificate number + code; rate-limited."""
        c = container()
        with verification_limit():
            return certificates.verify_asked(query, c.uow(), c.policies, c.certificates)

    @blp.arguments(VerifyIn)
    @blp.response(200, VerificationOut)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
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
