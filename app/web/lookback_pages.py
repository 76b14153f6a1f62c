"""Looking back, as pages on every channel: 社保费申报查询 with 申报作废, 完税证明 (开具 for oneself or
another person, the treasury wait, PDF, image, 补开), 缴费清单 by fee period, 缴费证明.

The pages call the same services as the API; files are drawn by the documents port bound in
the composition root. Every form posts and redirects (post/redirect/get).
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, request, session, url_for

from app.domain.documents import IdType
from app.domain.errors import DomainError, InvalidInput
from app.services import certificates, lookback, lookback_declarations, refund_applications
from app.web.context import channel_page, container, current_person, current_person_id, person_ids, render

bp = Blueprint("lookback_pages", __name__, url_prefix="/h5/<channel>")
PENDING_KEY = "certificate_pending"  # the treasury wait of the last issue, shown once after its redirect


def _file(body: bytes, content_type: str, filename: str, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(body, content_type=content_type, headers={
        "Content-Disposition": f'{disposition}; filename="{filename}"', "Cache-Control": "no-store"})


def _this_year() -> tuple[str, str]:
    """This year's fee periods (seed 003's default) and next year's, which residents pay ahead."""
    year = container().clock.today().year
    return f"{year}-01", f"{year + 1}-12"


def _month(text: str | None, default: str) -> str:
    return (text or "").strip() or default


# 社保费申报查询 and 申报作废
@bp.get("/declarations")
@channel_page
def declarations(channel):
    """个人社保费查询: the declarations of a fee-period range (this year by default, seed 003)."""
    c = container()
    person_id = current_person_id()
    start_default, end_default = _this_year()
    start, end = _month(request.args.get("start"), start_default), _month(request.args.get("end"), end_default)
    found = lookback_declarations.declared_information(person_id, c.uow())
    shown = [d for d in found if any(start <= p[:7] <= end or (len(p) == 4 and start[:4] <= p <= end[:4])
                                     for p in d["periods"])]
    return render("h5/declarations.html", items=shown, start=start, end=end, current=current_person())


@bp.get("/declarations/<notice>")
@channel_page
def declaration(channel, notice):
    c = container()
    detail = lookback_declarations.show_declaration(current_person_id(), notice, c.uow())
    return render("h5/declaration.html", d=detail)


@bp.post("/declarations/<notice>/void")
@channel_page
def void_declaration(channel, notice):
    """申报作废 (after the page's confirmation); refused while being paid and once paid."""
    c = container()
    try:
        lookback_declarations.void_declaration(current_person_id(), notice, c.uow(), c.clock)
        flash("申报已作废，可重新选择缴费基数（档次）或重新申报")
    except DomainError as err:
        flash(err.message, "error")
    return redirect(url_for("lookback_pages.declaration", channel=channel, notice=notice))


# 完税（费）证明
@bp.get("/certificates", endpoint="certificates")
@channel_page
def certificates_page(channel):
    """开具 (for oneself or another person), and the certificates issued, filtered for 补开."""
    c = container()
    person_id = current_person_id()
    args = request.args
    try:
        issued_from = date.fromisoformat(args["issued_from"]) if args.get("issued_from") else None
        issued_to = date.fromisoformat(args["issued_to"]) if args.get("issued_to") else None
    except ValueError:
        raise InvalidInput("date_format", "开具日期应为年-月-日，如2026-11-23", field="issued_from") from None
    found = certificates.find_certificates(person_id, c.uow(), c.clock, c.certificates, issued_from,
                                           issued_to, args.get("e_ticket_number") or None)
    start_default, end_default = _this_year()
    return render("h5/certificates.html", found=found, pending=session.pop(PENDING_KEY, None),
                  form={"period_start": start_default, "period_end": end_default}, id_types=list(IdType),
                  search={k: args.get(k, "") for k in ("issued_from", "issued_to", "e_ticket_number")})



@bp.post("/certificates")
@channel_page
def issue(channel):
    c = container()
    form = request.form
    other = None
    if form.get("for") == "other":
        other = {k: form.get(f"other_{k}", "").strip() for k in ("name", "id_type", "id_number")}
        if not other["name"] or not other["id_number"]:
            flash("代他人开具：请填写该人员的姓名和证件号码", "error")
            return redirect(url_for("lookback_pages.certificates", channel=channel))
    try:
        issued = certificates.issue_certificate(current_person_id(), form.get("period_start", ""),
                                                form.get("period_end", ""), c.uow(), c.clock, c.policies,
                                                c.certificates, other_person=other)
    except DomainError as err:
        flash(err.message, "error")
        return redirect(url_for("lookback_pages.certificates", channel=channel))
    numbers = [v["certificate_no"] for v in issued["certificates"]]
    if numbers:
        flash(f"已开具完税证明 {'、'.join(numbers)}")
    elif not issued["pending"]:
        flash("所选所属期没有可开具的已缴费记录", "error")
    session[PENDING_KEY] = issued["pending"]
    return redirect(url_for("lookback_pages.certificates", channel=channel))


@bp.post("/certificates/<certificate_no>/reissue")
@channel_page
def reissue(channel, certificate_no):
    c = container()
    try:
        again = certificates.reissue_certificate(current_person_id(), certificate_no, c.uow(), c.clock,
                                                 c.certificates)
        flash(f"已补开完税证明 {again['certificate_no']}")
    except DomainError as err:
        flash(err.message, "error")
    return redirect(url_for("lookback_pages.certificates", channel=channel))


@bp.get("/certificates/<certificate_no>.pdf")
@channel_page
def certificate_pdf(channel, certificate_no):
    c = container()
    document = certificates.certificate_document(current_person_id(), certificate_no, c.uow(), c.certificates)
    return _file(c.documents.certificate_pdf(document), "application/pdf", f"certificate-{certificate_no}.pdf")


@bp.get("/certificates/<certificate_no>.png")
@channel_page
def certificate_png(channel, certificate_no):
    """保存为图片: the certificate as an image for the phone's album."""
    c = container()
    document = certificates.certificate_document(current_person_id(), certificate_no, c.uow(), c.certificates)
    return _file(c.documents.certificate_png(document), "image/png", f"certificate-{certificate_no}.png")


# 缴费清单
@bp.get("/statement")
@channel_page
def statement(channel):
    """缴费清单: choose the fee periods, see the payments, download them."""
    c = container()
    start_default, end_default = _this_year()
    start, end = _month(request.args.get("start"), start_default), _month(request.args.get("end"), end_default)
    found = lookback.payment_statement_for_periods(current_person_id(), start, end, c.uow(), c.clock)
    return render("h5/statement.html", statement=found, start=start, end=end)


@bp.get("/statement.<fmt>")
@channel_page
def statement_file(channel, fmt):
    c = container()
    start_default, end_default = _this_year()
    start, end = _month(request.args.get("start"), start_default), _month(request.args.get("end"), end_default)
    found = lookback.payment_statement_for_periods(current_person_id(), start, end, c.uow(), c.clock)
    name = f"statement-{start}-{end}"
    if fmt == "csv":
        return _file(c.documents.statement_csv(found), "text/csv; charset=utf-8", name + ".csv")
    if fmt != "xlsx":
        raise InvalidInput("format_unknown", "缴费清单的下载格式不正确，请从页面重新下载", field="format")
    return _file(c.documents.statement_xlsx(found),
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name + ".xlsx")


# 缴费证明
@bp.get("/contribution-record")
@channel_page
def contribution_record(channel):
    c = container()
    record = lookback.contribution_record(current_person_id(), c.uow(), c.clock, c.policies)
    return render("h5/contribution_record.html", record=record)


@bp.get("/contribution-record.<fmt>")
@channel_page
def contribution_record_file(channel, fmt):
    c = container()
    record = lookback.contribution_record_document(current_person_id(), c.uow(), c.clock, c.policies)
    if fmt == "png":
        return _file(c.documents.record_png(record), "image/png", "contribution-record.png")
    if fmt != "pdf":
        raise InvalidInput("format_unknown", "缴费证明的下载格式不正确，请从页面重新下载", field="format")
    return _file(c.documents.record_pdf(record), "application/pdf", "contribution-record.pdf")


# 退费申请: how the identified persons' applications stand (applying is on the account channels' pages)
@bp.get("/refund-applications", endpoint="refund_applications")
@channel_page
def refund_applications_page(channel):
    c = container()
    current_person_id()  # identified first
    return render("refunds/lookback.html",
                  applications=refund_applications.list_refund_applications(person_ids(), c.uow()),
                  apply_channel=channel if channel in ("tax_app", "etax_web") else None)
