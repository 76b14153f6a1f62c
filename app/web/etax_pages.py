"""The web e-tax bureau for individuals (``etax_web``, seed 000): plain desktop pages behind the
account sign-in. 我的信息; 社会保险费申报 (read the risk notice → confirm the base → the fees of the
current period appear → tick and 申报缴费); 特殊缴费; 缴费情况查询 (by enrollment and notice number:
已缴纳 / 未支付 / 未缴费); 缴费清单 as a download request that completes and is then downloaded;
完税证明 开具 and 补开; payment by a QR code scanned with WeChat, Alipay or 云闪付 (seed 001).

Views only parse a form, call the same services as every channel, and render. The orders record
the channel ``etax_web`` and the account as the channel user.
"""
from __future__ import annotations

import secrets
from functools import wraps

from flask import Blueprint, Response, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from app.domain.errors import DomainError, InvalidInput
from app.domain.money import fen_from_yuan
from app.services import account_login, certificates, declarations, enrollments, lookback, orders
from app.web.account_guard import sign_in_first
from app.web.account_pages import _qr

bp = Blueprint("etax", __name__, url_prefix="/etax")
CHANNEL = "etax_web"
QR_METHODS = ("wechatpay.native", "alipay.qr", "unionpay.qr")
STATEMENT_REQUESTS = "etax:statements:"


def _c():
    return current_app.extensions["sbf"]


def signed_in(view):
    """The account of the cookie session (its consent given); otherwise the sign-in page, then back here."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        refused = sign_in_first(CHANNEL)
        if refused:
            return refused
        g.person_id = g.account.person_id
        return view(*args, **kwargs)
    return wrapper


@bp.errorhandler(400)
def _refused(error):
    """A form without its CSRF token (or a stale one): a page, not the API's JSON."""
    if getattr(g, "account", None) is None:
        return redirect(url_for("accounts_web.login", channel=CHANNEL))
    return _render("etax/message.html", message=error.description or "请求有误，请返回重试"), 400


def _render(template: str, **context):
    return render_template(template, account=account_login.account_view(g.account), **context)


@bp.get("/")
@signed_in
def home():
    return redirect(url_for("etax.me"))


@bp.get("/me")
@signed_in
def me():
    """我的信息: tax registration and enrollments."""
    items = enrollments.list_enrollments(g.person_id, _c().uow()) if g.person_id else []
    return _render("etax/me.html", enrollments=items)


def _unpaid(kind_special: bool) -> list[dict]:
    if not g.person_id:
        return []
    items = declarations.list_assessments(g.person_id, _c().uow(), state="declared_unpaid")
    return [a for a in items if (a["kind"] == "special") == kind_special]


@bp.route("/declare", methods=["GET", "POST"])
@signed_in
def declare():
    """社会保险费申报: the notice once, then each enrollment's base and the fees due."""
    from flask import session

    if request.method == "POST":
        session["etax_notice_read"] = True
        return redirect(url_for("etax.declare"))
    c = _c()
    rows = []
    for e in (enrollments.list_enrollments(g.person_id, c.uow()) if g.person_id else []):
        rows.append({"detail": enrollments.show_enrollment(g.person_id, e["id"], c.uow(), c.policies, c.clock),
                     "options": enrollments.contribution_options(g.person_id, e["id"], c.uow(), c.policies, c.clock)})
    return _render("etax/declare.html", notice_read=session.get("etax_notice_read"), rows=rows,
                   unpaid=_unpaid(False), this_month=c.clock.today().strftime("%Y-%m"))


@bp.post("/declare/<int:eid>/base")
@signed_in
def confirm_base(eid):
    """确认基数, then the current period is declared at once (seed 000: 欠费信息 appear below)."""
    c, form = _c(), request.form
    try:
        base_fen = fen_from_yuan(form["base_yuan"]) if form.get("base_yuan") else None
        if form.get("base_yuan") or form.get("grade") or form.get("scheme") == "fixed":
            if form.get("scheme") != "fixed":
                enrollments.choose_contribution(g.person_id, eid, c.uow(), c.policies, c.clock, base_fen=base_fen,
                                                grade=form.get("grade") or None,
                                                effective_month=form.get("effective_month") or None)
        regular = [p["period"] for p in declarations.declarable_periods(g.person_id, eid, c.uow(), c.policies, c.clock)
                   if p["kind"] == "regular"]
        if regular:
            declarations.declare_periods(g.person_id, eid, regular, c.uow(), c.policies, c.clock, c.notices)
        flash("基数确认成功，已生成本期欠费信息" if regular else "基数确认成功")
    except (DomainError, ArithmeticError, ValueError) as err:
        flash(getattr(err, "message", "缴费基数应为金额，如3980或3980.50"))
    return redirect(url_for("etax.declare"))


@bp.get("/special")
@signed_in
def special():
    """特殊缴费: back payments decided by the HR or medical bureau."""
    return _render("etax/special.html", unpaid=_unpaid(True))


@bp.post("/checkout")
@signed_in
def checkout():
    """申报缴费 / 缴费: the ticked fees, their total, and the QR methods."""
    chosen = {int(x) for x in request.form.getlist("assessment_ids") if x.isdigit()}
    items = [a for a in _unpaid(False) + _unpaid(True) if a["id"] in chosen]
    if not items:
        flash("请勾选要缴纳的欠费信息")
        return redirect(request.referrer or url_for("etax.declare"))
    c = _c()
    methods = [m for m in orders.payment_methods_for(CHANNEL, c.payments) if m in QR_METHODS]
    return _render("etax/checkout.html", items=items, total_fen=sum(a["amount_fen"] for a in items), methods=methods)


@bp.post("/orders")
@signed_in
def create_order():
    c = _c()
    ids = [int(x) for x in request.form.getlist("assessment_ids") if x.isdigit()]
    method = request.form.get("method", "")
    try:
        if method not in QR_METHODS:
            raise InvalidInput("method_not_allowed", "请选择二维码缴费方式", field="method")
        new = orders.NewOrder(person_ids=[g.person_id], assessment_ids=ids, channel=CHANNEL, method=method,
                              confirmed_amount_fen=int(request.form.get("confirmed_amount_fen") or 0),
                              channel_user=f"account:{g.account.id}", payer_person_id=g.person_id,
                              client_ip=request.remote_addr)
        order = orders.create_order(new, c.uow(), c.payments)
    except DomainError as err:
        flash(err.message)
        return redirect(url_for("etax.declare"))
    return redirect(url_for("etax.order", order_no=order["order_no"]))


@bp.get("/orders/<order_no>")
@signed_in
def order(order_no):
    """The QR to scan and the result; the page polls while paying."""
    c = _c()
    try:
        shown = orders.show_order(order_no, [g.person_id] if g.person_id else [], c.uow(),
                                  channel_user=f"account:{g.account.id}")
    except DomainError:
        return _render("etax/message.html", message="订单不存在"), 404
    if request.args.get("format") == "json":
        return jsonify({"state": shown["state"], "state_label": shown["state_label"]})
    qr = _qr(shown["pay"]["qr_code"]) if shown["pay"]["qr_code"] else None
    return _render("etax/order.html", order=shown, qr=qr)


@bp.get("/status")
@signed_in
def status():
    """缴费情况查询: by enrollment and notice number; 已缴纳, and 未缴费 / 未支付."""
    c, result, error = _c(), None, None
    eid = request.args.get("enrollment_id", type=int)
    notice = (request.args.get("notice_number") or "").strip() or None
    items = enrollments.list_enrollments(g.person_id, c.uow()) if g.person_id else []
    if g.person_id and "query" in request.args:
        try:
            result = declarations.payment_status(g.person_id, c.uow(), c.policies, c.clock, enrollment_id=eid,
                                                 notice_number=notice)
        except DomainError as err:
            error = err.message
    return _render("etax/status.html", enrollments=items, result=result, error=error, tab=request.args.get("tab",
                                                                                                          "paid"))


def _requests_key() -> str:
    return STATEMENT_REQUESTS + str(g.account.id)


@bp.route("/statements", methods=["GET", "POST"])
@signed_in
def statements():
    """缴费清单: 新增下载 (a date range) → the request completes → 下载."""
    store = current_app.extensions["sbf"].accounts.store
    requests = (store.get(_requests_key()) or {"items": []})["items"]
    if request.method == "POST":
        start, end = request.form.get("start", ""), request.form.get("end", "")
        try:
            built = lookback.payment_statement(g.person_id, _c().uow(), _c().clock, _date(start), _date(end)) \
                if g.person_id else None
        except DomainError as err:
            flash(err.message)
            return redirect(url_for("etax.statements"))
        requests = [{"id": secrets.token_hex(6), "start": start, "end": end, "state": "completed",
                     "count": built["count"] if built else 0,
                     "requested_at": _c().clock.now().strftime("%Y-%m-%d %H:%M")}] + requests[:19]
        store.put(_requests_key(), {"items": requests}, 7 * 86400)
        flash("下载申请已完成，可点击“下载”")
        return redirect(url_for("etax.statements"))
    return _render("etax/statements.html", requests=requests)


@bp.get("/statements/<request_id>.xlsx")
@signed_in
def statement_file(request_id):
    store = current_app.extensions["sbf"].accounts.store
    found = next((r for r in (store.get(_requests_key()) or {"items": []})["items"] if r["id"] == request_id), None)
    if found is None or not g.person_id:
        return _render("etax/message.html", message="下载申请不存在或已过期"), 404
    built = lookback.payment_statement(g.person_id, _c().uow(), _c().clock, _date(found["start"]), _date(found["end"]))
    return Response(_c().documents.statement_xlsx(built), content_type="application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet", headers={"Content-Disposition": f'attachment; filename="statement-'
                                                                           f'{found["start"]}-{found["end"]}.xlsx"',
                                                    "Cache-Control": "no-store"})


def _date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise InvalidInput("date_format", "请输入正确的日期，如2026-01-01", field="start") from None


@bp.route("/certificates", methods=["GET", "POST"])
@signed_in
def certificate_list():
    """完税证明: 开具 for fee periods; 补开 by issue dates and ticket number."""
    c, issued, found = _c(), None, None
    settings = c.certificates
    try:
        if request.method == "POST" and request.form.get("action") == "issue" and g.person_id:
            issued = certificates.issue_certificate(g.person_id, request.form.get("period_start", ""),
                                                    request.form.get("period_end", ""), c.uow(), c.clock, c.policies,
                                                    settings)
        elif request.method == "POST" and request.form.get("action") == "reissue" and g.person_id:
            issued = {"certificates": [certificates.reissue_certificate(g.person_id, request.form["certificate_no"],
                                                                        c.uow(), c.clock, settings)], "pending": []}
        if "find" in request.args and g.person_id:
            found = certificates.find_certificates(g.person_id, c.uow(), c.clock, settings,
                                                   _date(request.args.get("issued_from", "")),
                                                   _date(request.args.get("issued_to", "")),
                                                   request.args.get("e_ticket_number") or None)
    except DomainError as err:
        flash(err.message)
    return _render("etax/certificates.html", issued=issued, found=found)


@bp.get("/certificates/<certificate_no>.pdf")
@signed_in
def certificate_pdf(certificate_no):
    c = _c()
    try:
        document = certificates.certificate_document(g.person_id, certificate_no, c.uow(), c.certificates)
    except DomainError:
        return _render("etax/message.html", message="完税证明不存在"), 404
    return Response(c.documents.certificate_pdf(document), content_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="certificate-{certificate_no}.pdf"'})
