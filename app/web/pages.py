"""The payer's H5 pages: one set of templates for every channel entry, calling the same services.

Views only parse a form, call a service and render; rules live in the services and the domain.
Who the payer identified as is kept in the signed session cookie (the identification tokens);
domain errors are shown beside the field they concern.
"""
from __future__ import annotations

import io
from base64 import b64encode
from functools import wraps

import qrcode
import qrcode.image.svg
from flask import (Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, session,
                   url_for)

from werkzeug.exceptions import HTTPException

from app.domain.documents import IdType
from app.domain.errors import DomainError, InvalidInput, Unauthenticated
from app.domain.money import fen_from_yuan
from app.limits import guard_identification
from app.services import declarations, enrollments, identification, orders
from app.services.channel_regions import check_method_for_regions, methods_for_regions
from app.web.looks import LOOKS, look_of
from app.web.security import check_csrf

bp = Blueprint("h5", __name__, url_prefix="/h5", template_folder="templates", static_folder="static")
MODULES = (("pay", "缴费", "申报并缴纳社保费"), ("choose", "缴费档次或基数选择", "确认或作废缴费基数、档次"),
           ("special", "特殊缴费", "人社、医保部门核定的补缴"), ("records", "缴费记录", "查看缴费结果和明细"))


def _container():
    return current_app.extensions["sbf"]


def _people() -> list[dict]:
    return session.get("people", [])


def _person_ids() -> list[int]:
    """The persons this browser has identified (oneself and relatives), dropping expired ones."""
    c = _container()
    alive, ids = [], []
    for person in _people():
        pid = c.sessions.get(person["token"])
        if pid is not None:
            alive.append(person)
            ids.append(pid)
    if len(alive) != len(_people()):
        session["people"] = alive
    return ids


def _current_person_id() -> int:
    c = _container()
    token = session.get("current")
    person_id = c.sessions.get(token) if token else None
    if person_id is None:
        raise Unauthenticated("identification_required", "请先输入参保人姓名和证件信息进行身份确认")
    return person_id


def channel_page(view):
    """Checks the channel code and the CSRF token, and sends unidentified payers to the form."""
    @wraps(view)
    def wrapper(channel, *args, **kwargs):
        if channel not in LOOKS:
            abort(404)
        g.channel, g.look = channel, look_of(channel)
        if request.method == "POST":
            check_csrf()
        try:
            return view(channel, *args, **kwargs)
        except Unauthenticated:
            return redirect(url_for("h5.identify", channel=channel, next=request.full_path))
    return wrapper


def render(template: str, **context):
    return render_template(template, channel=g.channel, look=g.look, **context)


@bp.errorhandler(HTTPException)
def page_error(error: HTTPException):
    """Pages answer in HTML, not in the API's JSON error shape."""
    messages = {400: error.description if error.description and "页面" in error.description else "请求有误，请返回重试",
                404: "页面不存在或订单不属于当前参保人"}
    g.channel = getattr(g, "channel", "etax_web")
    g.look = look_of(g.channel)
    return render("h5/error.html", message=messages.get(error.code, "系统繁忙，请稍后再试")), error.code


def _signed_in_elsewhere(channel: str) -> bool:
    """True when this channel authenticates its users (公众号, 市民中心, ...) and this browser has
    no session of it yet: the entry goes to the channel's authorization first."""
    config = current_app.config
    configured = set(config.get("CHANNELS") or ()) or set(config.get("SANDBOX_CHANNELS") or ())
    return channel in configured and not (session.get("channel") == channel and session.get("channel_user"))


@bp.get("/<channel>/")
@channel_page
def entry(channel):
    if _signed_in_elsewhere(channel):
        region = request.args.get("region")
        if channel == "wechat_city" and not region:  # a city service is entered from a chosen city
            regions = sorted({(p.region, p.region_name) for p in _container().policies.all()})
            return render("h5/regions.html", regions=regions)
        return redirect(url_for("channel_entry.start", code=channel, **({"region": region} if region else {})))
    if session.get("current") and _container().sessions.get(session["current"]):
        return redirect(url_for("h5.menu", channel=channel))
    return redirect(url_for("h5.identify", channel=channel))


@bp.route("/<channel>/identify", methods=["GET", "POST"])
@channel_page
def identify(channel):
    form, errors, status = {"id_type": IdType.RESIDENT_ID.value}, {}, 200
    if request.method == "POST":
        form = {k: request.form.get(k, "").strip() for k in ("name", "id_type", "id_number")}
        if not form["name"]:
            errors["name"] = "请输入参保人姓名"
        if not form["id_number"]:
            errors["id_number"] = "请输入证件号码"
        if not errors:
            c = _container()
            try:
                guard_identification(session.get("channel_user"))
                found = identification.identify_person(form["name"], form["id_type"], form["id_number"], c.uow(),
                                                       c.sessions, c.settings["IDENTIFICATION_TTL_SECONDS"], c.clock)
            except DomainError as err:
                errors[err.field or "form"] = err.message
                status = err.http_status  # a failed identification counts toward the limit
            else:
                people = [p for p in _people() if p["id_number"] != found["person"]["id_number"]]
                session["people"] = people + [{"token": found["token"], **found["person"]}]
                session["current"] = found["token"]
                target = request.args.get("next") or url_for("h5.menu", channel=channel)
                return redirect(target if target.startswith("/h5/") else url_for("h5.menu", channel=channel))
    if errors and status == 200:
        status = 400
    return render("h5/identify.html", form=form, errors=errors, id_types=list(IdType)), status


@bp.get("/<channel>/menu")
@channel_page
def menu(channel):
    person_id = _current_person_id()
    current = next((p for p in _people() if p["token"] == session.get("current")), None)
    return render("h5/menu.html", modules=MODULES, current=current, people=_people(), person_id=person_id)


@bp.post("/<channel>/switch")
@channel_page
def switch(channel):
    token = request.form.get("token")
    if any(p["token"] == token for p in _people()):
        session["current"] = token
    return redirect(url_for("h5.menu", channel=channel))


@bp.get("/<channel>/enrollments")
@channel_page
def enrollment_list(channel):
    c = _container()
    person_id = _current_person_id()
    module = request.args.get("module", "pay")
    items = [enrollments.show_enrollment(person_id, e["id"], c.uow(), c.policies, c.clock)
             for e in enrollments.list_enrollments(person_id, c.uow())]
    return render("h5/enrollments.html", items=items, module=module)


@bp.route("/<channel>/enrollments/<int:eid>/choose", methods=["GET", "POST"])
@channel_page
def choose(channel, eid):
    c = _container()
    person_id = _current_person_id()
    errors, form = {}, {}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            base_fen = _fen(form.get("base_yuan")) if form.get("base_yuan") else None
            enrollments.choose_contribution(person_id, eid, c.uow(), c.policies, c.clock, base_fen=base_fen,
                                            grade=form.get("grade") or None,
                                            effective_month=form.get("effective_month") or None,
                                            batch_debit_allowed=form.get("batch_debit_allowed") == "on")
        except DomainError as err:
            errors[err.field or "form"] = err.message
        else:
            flash("缴费基数（档次）已确认")
            return redirect(url_for("h5.enrollment_list", channel=channel, module="choose"))
    detail = enrollments.show_enrollment(person_id, eid, c.uow(), c.policies, c.clock)
    options = enrollments.contribution_options(person_id, eid, c.uow(), c.policies, c.clock)
    return render("h5/choose.html", detail=detail, options=options, errors=errors, form=form,
                  this_month=c.clock.today().strftime("%Y-%m"))


@bp.get("/<channel>/enrollments/<int:eid>/preview")
@channel_page
def preview(channel, eid):
    """The amount for a base or grade, for the live preview beside the input."""
    c = _container()
    try:
        base_fen = _fen(request.args["base_yuan"]) if request.args.get("base_yuan") else None
        options = enrollments.contribution_options(_current_person_id(), eid, c.uow(), c.policies, c.clock,
                                                   base_fen=base_fen, grade=request.args.get("grade") or None)
    except DomainError as err:
        return jsonify({"error": err.message}), 400
    return jsonify(options["preview"] or {})


@bp.post("/<channel>/enrollments/<int:eid>/choices/<int:cid>/void")
@channel_page
def void(channel, eid, cid):
    c = _container()
    try:
        enrollments.void_choice(_current_person_id(), eid, cid, c.uow(), c.clock)
        flash("缴费基数（档次）已作废，可重新选择")
    except DomainError as err:
        flash(err.message, "error")
    return redirect(url_for("h5.choose", channel=channel, eid=eid))


@bp.route("/<channel>/enrollments/<int:eid>/declare", methods=["GET", "POST"])
@channel_page
def declare(channel, eid):
    c = _container()
    person_id = _current_person_id()
    errors = {}
    if request.method == "POST":
        try:
            result = declarations.declare_periods(person_id, eid, request.form.getlist("periods"), c.uow(),
                                                  c.policies, c.clock, c.notices)
        except DomainError as err:
            errors[err.field or "form"] = err.message
        else:
            return redirect(url_for("h5.unpaid", channel=channel, notice=result["notice_number"]))
    detail = enrollments.show_enrollment(person_id, eid, c.uow(), c.policies, c.clock)
    periods = declarations.declarable_periods(person_id, eid, c.uow(), c.policies, c.clock)
    scheme = enrollments.contribution_options(person_id, eid, c.uow(), c.policies, c.clock)["scheme"]
    return render("h5/declare.html", detail=detail, periods=periods, errors=errors, needs_choice=scheme != "fixed")


@bp.get("/<channel>/unpaid")
@channel_page
def unpaid(channel):
    """核对缴费金额: the declared, unpaid assessments of everyone identified here."""
    c = _container()
    _current_person_id()
    kind = request.args.get("kind")
    items = [a for pid in _person_ids() for a in declarations.list_assessments(pid, c.uow(), state="declared_unpaid")]
    if kind:
        items = [a for a in items if a["kind"] == kind]
    notice = request.args.get("notice")
    return render("h5/unpaid.html", items=items, notice=notice, kind=kind, people=_people())


@bp.post("/<channel>/checkout")
@channel_page
def checkout(channel):
    """核对订单金额: the chosen assessments, their total, and the channel's payment methods."""
    c = _container()
    _current_person_id()
    chosen = {int(x) for x in request.form.getlist("assessment_ids") if x.isdigit()}
    items = [a for pid in _person_ids() for a in declarations.list_assessments(pid, c.uow(), state="declared_unpaid")
             if a["id"] in chosen]
    if not items:
        flash("请选择要缴纳的费款", "error")
        return redirect(url_for("h5.unpaid", channel=channel))
    methods = methods_for_regions(channel, orders.payment_methods_for(channel, c.payments),
                                  [a["region"] for a in items], c.settings.get("CHANNEL_REGION_PAYMENT_METHODS", {}))
    return render("h5/checkout.html", items=items, total_fen=sum(a["amount_fen"] for a in items), methods=methods)


@bp.post("/<channel>/orders")
@channel_page
def create_order(channel):
    c = _container()
    _current_person_id()
    ids = [int(x) for x in request.form.getlist("assessment_ids") if x.isdigit()]
    try:
        check_method_for_regions(channel, request.form.get("method", ""), [request.form.get("method", "")],
                                 [a["region"] for pid in _person_ids()
                                  for a in declarations.list_assessments(pid, c.uow()) if a["id"] in ids],
                                 c.settings.get("CHANNEL_REGION_PAYMENT_METHODS", {}))
        new = orders.NewOrder(person_ids=_person_ids(), assessment_ids=ids, channel=channel,
                              method=request.form.get("method", ""),
                              confirmed_amount_fen=int(request.form.get("confirmed_amount_fen") or 0),
                              payer_person_id=_current_person_id(), channel_user=session.get("channel_user"),
                              payer_ref=session.get("payer_ref"), client_ip=request.remote_addr)
        order = orders.create_order(new, c.uow(), c.payments)
    except DomainError as err:
        flash(err.message, "error")
        return redirect(url_for("h5.unpaid", channel=channel))
    session.setdefault("orders", [])
    session["orders"] = (session["orders"] + [order["order_no"]])[-50:]
    # a wap cashier is a redirect that comes back by return_url; an in-app pay step (app_params,
    # e.g. WeChat JSAPI) and QR codes stay on our page, which polls for the result
    if order["pay"]["pay_url"] and not order["pay"]["app_params"] and order["provider"] != "counter":
        return redirect(order["pay"]["pay_url"])
    return redirect(url_for("h5.order_page", order_no=order["order_no"]))


@bp.get("/<channel>/records")
@channel_page
def records(channel):
    c = _container()
    _current_person_id()
    items = orders.list_orders(_person_ids(), c.uow(), channel_user=session.get("channel_user"))
    return render("h5/records.html", items=items)


@bp.get("/orders/<order_no>")
def order_page(order_no):
    """The pay step and its result (缴费成功 / failure with a reason); the page polls while paying."""
    c = _container()
    ids = _person_ids()
    try:
        order = orders.show_order(order_no, ids, c.uow(), channel_user=session.get("channel_user"))
    except DomainError:
        abort(404)
    g.channel = order["channel"] if order["channel"] in LOOKS else "etax_web"
    g.look = look_of(g.channel)
    qr_svg = _qr_svg(order["pay"]["qr_code"]) if order["pay"]["qr_code"] else None
    if request.args.get("format") == "json":
        return jsonify({"state": order["state"], "state_label": order["state_label"]})
    token = next((p["token"] for p in _people()), "")
    return render("h5/order.html", order=order, qr_svg=qr_svg, voucher_token=token)


@bp.post("/orders/<order_no>/cancel")
def cancel(order_no):
    check_csrf()
    c = _container()
    try:
        orders.cancel_order(order_no, _person_ids(), c.uow(), c.payments)
    except DomainError as err:
        flash(err.message, "error")
    return redirect(url_for("h5.order_page", order_no=order_no))


@bp.get("/elder")
def elder():
    """适老化: one switch for large type and high contrast, remembered in a cookie."""
    target = request.args.get("next") or "/"
    response = redirect(target if target.startswith("/") and not target.startswith("//") else "/")
    response.set_cookie("elder", "1" if request.args.get("on") == "1" else "0", max_age=365 * 86400,
                        samesite="Lax")
    return response


def _fen(text: str) -> int:
    try:
        return fen_from_yuan(text)
    except (ValueError, ArithmeticError):
        raise InvalidInput("amount_format", "缴费基数应为金额，如3980或3980.50", field="base_fen") from None


def _qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + b64encode(buffer.getvalue()).decode()
