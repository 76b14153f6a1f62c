"""社保费正常缴费退费申请 as pages of the tax app (税税通 / 移动办税) and the web e-tax bureau, behind the
account sign-in (seed 004): the person's details → the insurance → (no filed account: file one, then
back) → reason type, reason and account → 添加应退费明细 (periods → the fees paid and in the treasury →
tick → 确定添加) → 下一步 → 退费申请成功 with its number. The applications and their states are listed
on the first page and each has its own page; a returned one (已退回) takes another account there.

The draft (insurance, reason, account, ticked items) lives in the signed session cookie until it is
submitted; every form carries the CSRF token; the service checks everything again on submit.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for

from app.domain.accounts import NATIONALITIES
from app.domain.bank_accounts import ACCOUNT_KINDS, BANKS
from app.domain.errors import DomainError
from app.services import account_login, bank_accounts
from app.services import refund_applications as ra
from app.web.account_guard import sign_in_first

bp = Blueprint("refunds", __name__, url_prefix="/refunds/<channel>")
CHANNELS = {"tax_app": "税税通 / 移动办税", "etax_web": "电子税务局"}
DRAFT = "refund_draft"


def _c():
    return current_app.extensions["sbf"]


def signed_in(view):
    """The account of the cookie session (consent given) in one of the account channels; else sign in first."""
    @wraps(view)
    def wrapper(channel, *args, **kwargs):
        if channel not in CHANNELS:
            abort(404)
        g.channel = channel
        refused = sign_in_first(channel)
        if refused:
            return refused
        if g.account.person_id is None:
            return _render("refunds/message.html", message="尚未查询到您的参保信息，暂不能办理退费申请"), 404
        return view(channel, *args, **kwargs)
    return wrapper


def _applicant() -> ra.Applicant:
    return ra.Applicant(person_id=g.account.person_id, account_id=g.account.id, channel=g.channel,
                        nationality_label=NATIONALITIES.get(g.account.nationality, g.account.nationality))


def _render(template: str, **context):
    return render_template(template, channel=g.channel, channel_title=CHANNELS[g.channel],
                           account=account_login.account_view(g.account), **context)


def _draft() -> dict:
    return dict(session.get(DRAFT) or {})


def _save_draft(**values) -> None:
    session[DRAFT] = {**_draft(), **values}


@bp.route("/", methods=["GET", "POST"])
@signed_in
def start(channel):
    """The person's details, the applications so far, and the insurance to ask a refund for."""
    c = _c()
    begun = ra.refund_start(_applicant(), c.uow())
    if request.method == "POST":
        insurance = request.form.get("insurance", "")
        if insurance not in {i["code"] for i in begun["insurances"]}:
            flash("请选择退费的险种")
            return redirect(url_for("refunds.start", channel=channel))
        session[DRAFT] = {"insurance": insurance, "assessment_ids": []}
        if begun["needs_bank_account"]:
            flash("您尚未进行存款账户账号备案，请先备案用于退费的银行账户")
            return redirect(url_for("refunds.bank_account", channel=channel))
        return redirect(url_for("refunds.form", channel=channel))
    applications = ra.list_refund_applications([g.account.person_id], c.uow())
    return _render("refunds/start.html", begun=begun, applications=applications)


@bp.route("/bank-account", methods=["GET", "POST"])
@signed_in
def bank_account(channel):
    """存款账户账号备案, then back to the application."""
    c = _c()
    if request.method == "POST":
        form = request.form
        try:
            bank_accounts.file_bank_account(g.account.person_id, [g.account.person_id], {
                "bank_code": form.get("bank_code", ""), "account_kind": form.get("account_kind", ""),
                "account_no": form.get("account_no", ""), "holder_name": form.get("holder_name", "")},
                c.uow(), c.clock)
        except DomainError as refused:
            flash(refused.message)
            return redirect(url_for("refunds.bank_account", channel=channel, back=request.args.get("back")))
        flash("存款账户账号备案成功")
        back = request.args.get("back", "")
        if back.startswith("/refunds/") and not back.startswith("//"):
            return redirect(back)
        return redirect(url_for("refunds.form", channel=channel))
    return _render("refunds/bank_account.html", banks=BANKS, kinds=ACCOUNT_KINDS)


@bp.route("/form", methods=["GET", "POST"])
@signed_in
def form(channel):
    """Reason type, reason and account, the items added so far; 添加应退费明细 or 下一步 (submit)."""
    c = _c()
    draft = _draft()
    if not draft.get("insurance"):
        return redirect(url_for("refunds.start", channel=channel))
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in ("reason_type", "reason_text", "bank_account_id")}
        _save_draft(**values)
        if request.form.get("action") == "add_items":
            return redirect(url_for("refunds.items", channel=channel))
        try:
            made = ra.submit_refund_application(_applicant(), {**_draft(), **values}, c.uow(), c.clock,
                                                c.certificates)
        except DomainError as refused:
            flash(refused.message)
            return redirect(url_for("refunds.form", channel=channel))
        session.pop(DRAFT, None)  # a second click submits nothing
        return redirect(url_for("refunds.done", channel=channel, application_no=made["application_no"]))
    begun = ra.refund_start(_applicant(), c.uow())
    if begun["needs_bank_account"]:
        return redirect(url_for("refunds.bank_account", channel=channel))
    added = _added(draft)
    return _render("refunds/form.html", begun=begun, draft=draft, added=added,
                   total_yuan=f"{sum(i['amount_fen'] for i in added) / 100:.2f}",
                   insurance_label=next((i["label"] for i in begun["insurances"] if i["code"] == draft["insurance"]),
                                        draft["insurance"]))


def _added(draft: dict) -> list[dict]:
    c = _c()
    return ra.ticked_refund_items(_applicant(), draft["insurance"], draft.get("assessment_ids") or [], c.uow(),
                                  c.clock, c.certificates)


@bp.route("/items", methods=["GET", "POST"])
@signed_in
def items(channel):
    """添加应退费明细: choose the periods; the fees paid and in the treasury are listed to tick."""
    c = _c()
    draft = _draft()
    if not draft.get("insurance"):
        return redirect(url_for("refunds.start", channel=channel))
    if request.method == "POST":
        try:
            ticked = sorted({int(x) for x in request.form.getlist("assessment_id")})
        except ValueError:
            ticked = []
        if not ticked:
            flash("请勾选应退费明细")
            return redirect(url_for("refunds.items", channel=channel, **request.args))
        _save_draft(assessment_ids=sorted(set(draft.get("assessment_ids") or []) | set(ticked)))
        return redirect(url_for("refunds.form", channel=channel))
    year = c.clock.today().year
    start, end = request.args.get("period_start") or f"{year}-01", request.args.get("period_end") or f"{year}-12"
    listed, error = [], None
    try:
        listed = ra.list_refundable_items(_applicant(), draft["insurance"], start, end, c.uow(), c.clock,
                                          c.certificates)
    except DomainError as refused:
        error = refused.message
    chosen = set(draft.get("assessment_ids") or [])
    return _render("refunds/items.html", listed=listed, start=start, end=end, error=error, chosen=chosen)


@bp.get("/done/<application_no>")
@signed_in
def done(channel, application_no):
    c = _c()
    return _render("refunds/done.html",
                   a=ra.get_refund_application(application_no, [g.account.person_id], c.uow()))


@bp.route("/applications/<application_no>", methods=["GET", "POST"])
@signed_in
def application(channel, application_no):
    """One application and how it stands; a returned one (已退回) takes another filed account here."""
    c = _c()
    if request.method == "POST":
        try:
            ra.refile_refund_account(application_no, [g.account.person_id], request.form.get("bank_account_id", 0),
                                     c.uow(), c.payments)
            flash("已更换退费账户，退费将重新办理")
        except (DomainError, ValueError) as refused:
            flash(getattr(refused, "message", "请选择已备案的银行账户"))
        return redirect(url_for("refunds.application", channel=channel, application_no=application_no))
    try:
        found = ra.get_refund_application(application_no, [g.account.person_id], c.uow())
    except DomainError as refused:
        return _render("refunds/message.html", message=refused.message), 404
    accounts = ra.refund_start(_applicant(), c.uow())["bank_accounts"]
    return _render("refunds/application.html", a=found, accounts=accounts)
