"""The payer's H5 pages: identify, the channel's menu, choose a base or grade, declare, check the
amount, pay, and the result. One set of templates for every channel entry, calling the services.

Views only parse a form, call a service and render; rules live in the services and the domain.
Every form posts, then redirects to a page that can be reloaded (post/redirect/get), so Back and
reload never resubmit a payment. Looking back is in ``lookback_pages``.
"""
from __future__ import annotations

import io
import re
from base64 import b64encode

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request, session, url_for

from app.domain.documents import IdType
from app.domain.errors import DomainError, InvalidInput, NotFound, TooManyAttempts
from app.domain.money import fen_from_yuan
from app.limits import guard_identification
from app.services import declarations, enrollments, identification, orders
from app.services.channel_regions import check_method_for_regions, methods_for_regions
from app.web import menus
from app.web.context import (channel_adapter, channel_codes, channel_page, check_region, chosen_region, container,
                             current_person, current_person_id, in_region, people, person_ids, render, safe_next,
                             set_channel)
from app.web.security import check_csrf
from channels.base import START_OPEN_QR_IN_APP, OpenedPayment, RequestRefused

bp = Blueprint("h5", __name__, url_prefix="/h5", template_folder="templates", static_folder="static")
DEBIT_NOTICE = "扣款成功后可能会存在缴费失败情况，这时将在2-5个工作日按原渠道退还费款。请保留支付凭证备查。"


@bp.get("/<channel>/")
@channel_page
def entry(channel):
    if _needs_authorization(channel):
        region = request.args.get("region")
        adapter = channel_adapter(channel)
        if adapter is not None and adapter.needs_region and not region:  # a city service starts from a city
            regions = sorted({(p.region, p.region_name) for p in container().policies.all()})
            return render("h5/regions.html", regions=regions)
        return redirect(url_for("channel_entry.start", code=channel, **({"region": region} if region else {})))
    if session.get("current") and container().sessions.get(session["current"]):
        return redirect(url_for("h5.menu", channel=channel))
    return redirect(url_for("h5.identify", channel=channel))


def _needs_authorization(channel: str) -> bool:
    """True when this browser has no session of the channel yet: the entry goes to its authorization."""
    return channel_adapter(channel) is not None and not (
        session.get("channel") == channel and session.get("channel_user"))


@bp.route("/<channel>/identify", methods=["GET", "POST"])
@channel_page
def identify(channel):
    """参保人 (oneself) or, with ``proxy=1``, the 缴费人 paid for (代他人缴费)."""
    proxy = request.args.get("proxy") == "1"
    form, errors, status = {"id_type": IdType.RESIDENT_ID.value}, {}, 200
    if request.method == "POST":
        form = {k: request.form.get(k, "").strip() for k in ("name", "id_type", "id_number")}
        if not form["name"]:
            errors["name"] = "请输入姓名"
        if not form["id_number"]:
            errors["id_number"] = "请输入证件号码"
        if not errors:
            try:
                found = _identify(form)
            except TooManyAttempts as err:
                errors["form"], status = f"{err.message}（请于{_identify_wait_minutes()}分钟后再试）", err.http_status
            except DomainError as err:
                errors[err.field or "form"] = err.message
                status = err.http_status  # a failed identification counts toward the limit
            else:
                people_now = [p for p in people() if p["id_number"] != found["person"]["id_number"]]
                session["people"] = people_now + [{"token": found["token"], "proxy": proxy, **found["person"]}]
                session["current"] = found["token"]
                if proxy and not request.args.get("next"):  # 缴费人信息 → 缴费信息确认 (seed 003)
                    return redirect(url_for("h5.enrollment_list", channel=channel, module="pay"))
                return redirect(safe_next(request.args.get("next"), channel))
    if errors and status == 200:
        status = 400
    return render("h5/identify.html", form=form, errors=errors, id_types=list(IdType), proxy=proxy), status


def _identify(form: dict) -> dict:
    c = container()
    guard_identification(session.get("channel_user"))
    found = identification.identify_person(form["name"], form["id_type"], form["id_number"], c.uow(), c.sessions,
                                           c.settings["IDENTIFICATION_TTL_SECONDS"], c.clock)
    region = chosen_region()
    if region and not any(e["region"] == region for e in found["enrollments"]):
        name = c.policies.region_name(region)
        raise NotFound("no_enrollment_in_region", f"未查询到该人员在{name}的参保登记，请在城市服务中切换到其参保地后办理")
    return found


def _identify_wait_minutes() -> int:
    """The identification limit's window, as the payer is told how long to wait."""
    limit = current_app.config["IDENTIFY_LIMIT_PER_CHANNEL_USER"].split(";")[0]
    match = re.search(r"per (\d+)?\s*(second|minute|hour)", limit)
    amount = int(match.group(1) or 1) if match else 10
    unit = match.group(2) if match else "minute"
    return max(1, amount * {"second": 1, "minute": 60, "hour": 3600}[unit] // 60)


@bp.get("/<channel>/menu")
@channel_page
def menu(channel):
    person_id = current_person_id()
    items = menus.menu_items(channel_adapter(channel), _menu_region(person_id))
    return render("h5/menu.html", modules=menus.entries(channel, items), current=current_person(), people=people(),
                  proxy_in_menu=any(i.module == menus.MODULE_PROXY for i in items))


@bp.get("/<channel>/menu/<key>")
@channel_page
def submenu(channel, key):
    """One of a channel's menus with its own items (云闪付: 社保（养老）自助缴费, ...)."""
    item = menus.find_item(channel_adapter(channel), _menu_region(current_person_id()), key)
    if item is None or not item.children:
        abort(404)
    return render("h5/submenu.html", item=item, modules=menus.entries(channel, item.children))


def _menu_region(person_id: int) -> str | None:
    """The region whose function list applies: the city chosen, else the payer's enrollments'."""
    region = chosen_region()
    if region:
        return region
    mine = enrollments.list_enrollments(person_id, container().uow())
    return mine[0]["region"] if mine else None


@bp.post("/<channel>/switch")
@channel_page
def switch(channel):
    token = request.form.get("token")
    if any(p["token"] == token for p in people()):
        session["current"] = token
    return redirect(url_for("h5.menu", channel=channel))


@bp.get("/<channel>/enrollments")
@channel_page
def enrollment_list(channel):
    c = container()
    person_id = current_person_id()
    module = request.args.get("module", "pay")
    insurance, kind = request.args.get("insurance"), request.args.get("kind")
    items = [enrollments.show_enrollment(person_id, e["id"], c.uow(), c.policies, c.clock)
             for e in in_region(enrollments.list_enrollments(person_id, c.uow()))
             if not insurance or e["insurance"] == insurance]
    for e in items:
        e["scheme"] = enrollments.contribution_options(person_id, e["id"], c.uow(), c.policies, c.clock)["scheme"]
    return render("h5/enrollments.html", items=items, module=module, kind=kind)


@bp.route("/<channel>/enrollments/<int:eid>/choose", methods=["GET", "POST"])
@channel_page
def choose(channel, eid):
    c = container()
    person_id = current_person_id()
    detail = check_region(enrollments.show_enrollment(person_id, eid, c.uow(), c.policies, c.clock))
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
            return redirect(url_for("h5.chosen", channel=channel, eid=eid))
    options = enrollments.contribution_options(person_id, eid, c.uow(), c.policies, c.clock)
    return render("h5/choose.html", detail=detail, options=options, errors=errors, form=form,
                  this_month=c.clock.today().strftime("%Y-%m")), 400 if errors else 200


@bp.get("/<channel>/enrollments/<int:eid>/chosen")
@channel_page
def chosen(channel, eid):
    """基数确认成功: on to 缴费, or 退出 (seed 002)."""
    c = container()
    detail = check_region(enrollments.show_enrollment(current_person_id(), eid, c.uow(), c.policies, c.clock))
    return render("h5/chosen.html", detail=detail)


@bp.get("/<channel>/enrollments/<int:eid>/preview")
@channel_page
def preview(channel, eid):
    """The amount for a base or grade, for the live preview beside the input."""
    c = container()
    try:
        base_fen = _fen(request.args["base_yuan"]) if request.args.get("base_yuan") else None
        options = enrollments.contribution_options(current_person_id(), eid, c.uow(), c.policies, c.clock,
                                                   base_fen=base_fen, grade=request.args.get("grade") or None)
    except DomainError as err:
        return jsonify({"error": err.message}), 400
    return jsonify(options["preview"] or {})


@bp.post("/<channel>/enrollments/<int:eid>/choices/<int:cid>/void")
@channel_page
def void(channel, eid, cid):
    c = container()
    try:
        enrollments.void_choice(current_person_id(), eid, cid, c.uow(), c.clock)
        flash("缴费基数（档次）已作废，可重新选择")
    except DomainError as err:
        flash(err.message, "error")
    return redirect(url_for("h5.choose", channel=channel, eid=eid))


@bp.route("/<channel>/enrollments/<int:eid>/declare", methods=["GET", "POST"])
@channel_page
def declare(channel, eid):
    c = container()
    person_id = current_person_id()
    detail = check_region(enrollments.show_enrollment(person_id, eid, c.uow(), c.policies, c.clock))
    errors = {}
    if request.method == "POST":
        try:
            result = declarations.declare_periods(person_id, eid, request.form.getlist("periods"), c.uow(),
                                                  c.policies, c.clock, c.notices)
        except DomainError as err:
            errors[err.field or "form"] = err.message
        else:
            return redirect(url_for("h5.unpaid", channel=channel, notice=result["notice_number"]))
    kind = request.args.get("kind")
    periods = [p for p in declarations.declarable_periods(person_id, eid, c.uow(), c.policies, c.clock)
               if not kind or p["kind"] == kind]
    scheme = enrollments.contribution_options(person_id, eid, c.uow(), c.policies, c.clock)["scheme"]
    return render("h5/declare.html", detail=detail, periods=periods, errors=errors, scheme=scheme,
                  uncovered=[p for p in periods if not p["covered"]]), 400 if errors else 200


def _unpaid_items(kind: str | None = None) -> list[dict]:
    """The declared, unpaid assessments of everyone identified here (in the chosen region)."""
    c = container()
    current_person_id()
    items = [a for pid in person_ids() for a in declarations.list_assessments(pid, c.uow(), state="declared_unpaid")]
    items = in_region(items)
    return [a for a in items if not kind or a["kind"] == kind]


@bp.get("/<channel>/unpaid")
@channel_page
def unpaid(channel):
    """核对缴费金额: choose what to pay."""
    kind = request.args.get("kind")
    return render("h5/unpaid.html", items=_unpaid_items(kind), notice=request.args.get("notice"), kind=kind)


@bp.get("/<channel>/checkout")
@channel_page
def checkout(channel):
    """核对订单金额: the chosen assessments, their total, and the channel's payment methods (a GET:
    Back from the cashier comes here and shows what is left to pay, never a resubmission)."""
    c = container()
    chosen_ids = {int(x) for x in request.args.getlist("assessment_ids") if x.isdigit()}
    if not chosen_ids:
        flash("请选择要缴纳的费款", "error")
        return redirect(url_for("h5.unpaid", channel=channel))
    items = [a for a in _unpaid_items() if a["id"] in chosen_ids]
    methods = methods_for_regions(channel, orders.payment_methods_for(channel, c.payments),
                                  [a["region"] for a in items], c.settings.get("CHANNEL_REGION_PAYMENT_METHODS", {}))
    return render("h5/checkout.html", items=items, total_fen=sum(a["amount_fen"] for a in items), methods=methods,
                  gone=len(items) < len(chosen_ids), notice=DEBIT_NOTICE,
                  agreement_pay_url=_agreement_pay_url(channel, items))


def _agreement_pay_url(channel: str, items: list[dict]) -> str | None:
    """协议缴纳 where the channel has its agreement screens (the tax app), never for special assessments."""
    endpoint = {"tax_app": "tax_app_agreements.pay"}.get(channel)
    if endpoint is None or endpoint.split(".")[0] not in current_app.blueprints or not items \
            or any(a["kind"] == "special" for a in items):
        return None
    return url_for(endpoint, assessment_ids=[a["id"] for a in items])


@bp.post("/<channel>/orders")
@channel_page
def create_order(channel):
    c = container()
    payer = current_person_id()
    ids = [int(x) for x in request.form.getlist("assessment_ids") if x.isdigit()]
    for a in _unpaid_items():
        if a["id"] in ids:
            check_region(a)
    try:
        check_method_for_regions(channel, request.form.get("method", ""), [request.form.get("method", "")],
                                 [a["region"] for pid in person_ids()
                                  for a in declarations.list_assessments(pid, c.uow()) if a["id"] in ids],
                                 c.settings.get("CHANNEL_REGION_PAYMENT_METHODS", {}))
        new = orders.NewOrder(person_ids=person_ids(), assessment_ids=ids, channel=channel,
                              method=request.form.get("method", ""),
                              confirmed_amount_fen=int(request.form.get("confirmed_amount_fen") or 0),
                              payer_person_id=payer, channel_user=session.get("channel_user"),
                              payer_ref=session.get("payer_ref"), client_ip=request.remote_addr)
        order = orders.create_order(new, c.uow(), c.payments)
    except DomainError as err:
        flash(err.message, "error")
        return redirect(url_for("h5.unpaid", channel=channel))
    session["orders"] = (session.get("orders", []) + [order["order_no"]])[-50:]
    # a wap cashier is a redirect that comes back by return_url; an in-app pay step (app_params,
    # WeChat JSAPI; 云闪付's payment control) and QR codes stay on our page, which polls for the result
    if order["pay"]["pay_url"] and not order["pay"]["app_params"] and order["provider"] not in ("counter",):
        return redirect(order["pay"]["pay_url"])
    return redirect(url_for("h5.order_page", order_no=order["order_no"]))


@bp.get("/<channel>/records")
@channel_page
def records(channel):
    """缴费记录: the orders of everyone identified here and those this channel user paid for."""
    c = container()
    current_person_id()
    insurance, kind = request.args.get("insurance"), request.args.get("kind")
    items = orders.list_orders(person_ids(), c.uow(), channel_user=session.get("channel_user"))
    if insurance or kind:
        items = [o for o in items if any((not insurance or i["insurance"] == insurance) and
                                         (not kind or i["kind"] == kind) for i in o["items"])]
    return render("h5/records.html", items=items, mine=set(person_ids()))


@bp.get("/orders/<order_no>")
def order_page(order_no):
    """The pay step and its result (缴费成功 / failure with a reason); the page polls while paying."""
    c = container()
    try:
        order = orders.show_order(order_no, person_ids(), c.uow(), channel_user=session.get("channel_user"))
    except DomainError:
        abort(404)
    set_channel(order["channel"] if order["channel"] in channel_codes() else (channel_codes() or ("",))[0])
    if request.args.get("format") == "json":
        return jsonify({"state": order["state"], "state_label": order["state_label"]})
    in_app = _opens_in_app(order)
    qr_svg = _qr_svg(order["pay"]["qr_code"]) if order["pay"]["qr_code"] and not in_app else None
    token = next((p["token"] for p in people()), "")
    return render("h5/order.html", order=order, qr_svg=qr_svg, in_app=in_app, voucher_token=token,
                  notice=DEBIT_NOTICE)


@bp.post("/orders/<order_no>/cancel")
def cancel(order_no):
    check_csrf()
    c = container()
    try:
        orders.cancel_order(order_no, person_ids(), c.uow(), c.payments)
        flash("订单已取消，费款可重新缴纳")
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


def _opens_in_app(order: dict) -> bool:
    """The channel's app opens the QR payment itself (云闪付): a button, never a QR to scan on one's own screen."""
    adapter = channel_adapter(order["channel"])
    pay = order["pay"]
    if adapter is None or not pay["qr_code"] or order["state"] not in ("created", "paying"):
        return False
    try:
        start = adapter.start_payment(OpenedPayment(order["order_no"], f"{order['provider']}.{order['method']}",
                                                    order["amount_fen"], pay_url=pay["pay_url"],
                                                    qr_code=pay["qr_code"], app_params=pay["app_params"]))
    except RequestRefused:
        return False
    return start.kind == START_OPEN_QR_IN_APP


def _fen(text: str) -> int:
    try:
        return fen_from_yuan(text)
    except (ValueError, ArithmeticError):
        raise InvalidInput("amount_format", "缴费基数应为金额，如3980或3980.50", field="base_fen") from None


def _qr_svg(text: str) -> str:
    import qrcode.image.svg  # on first use: 5 MB that processes rendering no page need not carry

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + b64encode(buffer.getvalue()).decode()
