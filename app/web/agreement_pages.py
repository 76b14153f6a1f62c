"""委托扣款协议 pages (seeds 000, 001, 004), the same screens on the web e-tax bureau and in the tax app.

Behind the account sign-in of either site: 存款账户账号备案 (file an account, shown masked),
新增协议 (已在银行签署协议: the number, which the bank confirms; 未在银行签署协议: saved, then
"等待银行验证成功"), for oneself or for another insured person queried by name and document,
撤销协议 after a confirmation, the 自动缴费 switch, the agreement query, the payment password
(an SMS code, the password twice; enable or disable) and 协议缴纳 of chosen due assessments.

One blueprint per site (``etax_agreements`` under /etax/agreements, ``tax_app_agreements``
under /tax-app/agreements); the views only parse a form, call the services every channel uses,
and render into the site's own layout. The third wrong payment password ends the account's
session (seed 001: "强制退出登录") and the payer signs in again.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for

from app.domain.bank_accounts import ACCOUNT_KINDS, BANKS
from app.domain.documents import IdType
from app.domain.errors import DomainError, TooManyAttempts
from app.services import (account_login, agreements, bank_accounts, batch_debit, declarations, identification,
                          orders, payment_password)
from app.services.agreement_payment import AgreementPaymentRequest, PasswordCheck, pay_by_agreement
from app.limits import guard_identification
from app.web.account_guard import sign_in_first
from app.web.looks import look_of

SITES = {  # blueprint name: (url prefix, layout, channel, the site's home endpoint)
    "etax_agreements": ("/etax/agreements", "etax/_layout.html", "etax_web", "etax.me"),
    "tax_app_agreements": ("/tax-app/agreements", "agreements/_app_layout.html", "tax_app", "tax_app.home"),
}
OTHERS = "agreement_people"  # identification tokens of the other insured persons queried on these pages


def _c():
    return current_app.extensions["sbf"]


def _site() -> tuple[str, str, str, str]:
    return SITES[request.blueprint]


def _url(view: str, **values) -> str:
    return url_for(f"{request.blueprint}.{view}", **values)


def _signed_in(view):
    """The account of the cookie session; otherwise its sign-in, then back here."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        refused = sign_in_first(_site()[2])
        if refused:
            return refused
        if g.account.person_id is None:
            return _render("agreements/message.html", message="未查询到您的参保登记信息，暂不能办理委托扣款协议"), 404
        g.person_id = g.account.person_id
        return view(*args, **kwargs)
    return wrapper


def _render(template: str, **context):
    prefix, layout, channel, home = _site()
    return render_template(template, layout=layout, ep=request.blueprint, site_home=url_for(home), channel=channel,
                           look=look_of(channel), account=account_login.account_view(g.account), **context)


def _person_ids() -> list[int]:
    """The account's own person first, then the others queried here whose identification is still alive
    (in the tax app also those identified on its payment pages in this browser)."""
    ids, alive = [g.person_id], []
    for token in session.get(OTHERS, []):
        pid = _c().sessions.get(token)
        if pid is not None and pid not in ids:
            ids.append(pid)
            alive.append(token)
    if alive != session.get(OTHERS, []):
        session[OTHERS] = alive
    if request.blueprint == "tax_app_agreements" and session.get("channel") == "tax_app":
        for person in session.get("people", []):
            pid = _c().sessions.get(person.get("token"))
            if pid is not None and pid not in ids:
                ids.append(pid)
    return ids


def _others() -> list[dict]:
    with _c().uow() as uow:
        return [{"id": pid, **_person(uow, pid)} for pid in _person_ids()[1:]]


def _person(uow, pid: int) -> dict:
    from app.services.views import person_view

    return person_view(uow.persons.get(pid))


def _failed(err: DomainError, target: str):
    flash(err.message)
    return redirect(target)


# -- the agreement query, and the forms ---------------------------------------------------------

def index():
    """委托扣款缴费协议查询, the filed accounts, the payment password and the 统一扣款 results (with why one failed)."""
    c, ids = _c(), _person_ids()
    return _render("agreements/index.html", agreements=agreements.list_agreements(ids, c.uow()),
                   accounts=bank_accounts.list_bank_accounts(ids, c.uow()),
                   password=payment_password.password_status(g.person_id, c.uow(), c.clock),
                   batch_lines=batch_debit.batch_results_for(ids, c.batch_store)[:50])


def file_account():
    """存款账户账号备案: bank, account kind, number, holder (人卡分离: the holder's document too)."""
    c, ids = _c(), _person_ids()
    form = request.form if request.method == "POST" else {}
    person_id = request.values.get("person_id", type=int) or g.person_id
    errors = {}
    if request.method == "POST":
        data = {k: form.get(k, "") for k in ("bank_code", "account_kind", "account_no", "holder_name",
                                                "holder_id_type", "holder_id_number")}
        data["holder_is_other"] = form.get("holder_is_other") == "1"
        try:
            bank_accounts.file_bank_account(person_id, ids, data, c.uow(), c.clock)
        except DomainError as err:
            errors[err.field or "form"] = err.message
        else:
            flash("存款账户账号备案成功")
            back = form.get("next")
            return redirect(_url("new_agreement", person_id=person_id) if back == "new" else _url("index"))
    with c.uow() as uow:
        people = [{"id": pid, **_person(uow, pid)} for pid in ids]
    return _render("agreements/account.html", banks=BANKS, kinds=ACCOUNT_KINDS, form=form, errors=errors,
                   people=people, person_id=person_id, id_types=list(IdType),
                   next=request.values.get("next", "")), 400 if errors else 200


def new_agreement():
    """新增协议: for oneself or another insured person; 已在银行签署 or 未在银行签署."""
    c, ids = _c(), _person_ids()
    person_id = request.values.get("person_id", type=int) or g.person_id
    if person_id not in ids:
        person_id = g.person_id
    errors, form = {}, request.form if request.method == "POST" else {}
    if request.method == "POST" and form.get("action") == "query":  # 他人: 查询 brings their insured information
        try:
            guard_identification(f"account:{g.account.id}")  # the payer pages' limit on failed identifications
            found = identification.identify_person(form.get("other_name", "").strip(), form.get("other_id_type", ""),
                                                   form.get("other_id_number", ""), c.uow(), c.sessions,
                                                   c.settings["IDENTIFICATION_TTL_SECONDS"], c.clock)
        except DomainError as err:
            errors["other"] = err.message
        else:
            session[OTHERS] = [t for t in session.get(OTHERS, []) if t != found["token"]] + [found["token"]]
            pid = c.sessions.get(found["token"])
            return redirect(_url("new_agreement", person_id=pid, whom="other"))
    elif request.method == "POST":
        data = {"person_id": person_id, "mode": form.get("mode"), "bank_account_id": form.get("bank_account_id",
                                                                                              type=int),
                "agreement_no": form.get("agreement_no", ""), "auto_pay": form.get("auto_pay") == "1"}
        try:
            made = agreements.sign_agreement(g.person_id, ids, data, c.uow(), c.bank, c.clock)
        except DomainError as err:
            errors[err.field or "form"] = err.message
        else:
            flash({"verifying": "已保存，等待银行验证成功", "active": "签约成功，协议已生效"}.get(
                made["state"], f"银行验证未通过：{made['reason'] or ''}"))
            return redirect(_url("index"))
    accounts = [a for a in bank_accounts.list_bank_accounts(ids, c.uow()) if a["person_id"] == person_id]
    with c.uow() as uow:
        insured = _person(uow, person_id)
    whom = request.values.get("whom") or ("other" if person_id != g.person_id else "self")
    return _render("agreements/new.html", form=form, errors=errors, accounts=accounts, insured=insured,
                   person_id=person_id, whom=whom, id_types=list(IdType)), 400 if errors else 200


def revoke(agreement_id: int):
    """撤销协议: a confirmation first (确认撤销), then at the bank and here."""
    c, ids = _c(), _person_ids()
    if request.method == "GET":
        try:
            shown = agreements.show_agreement(agreement_id, ids, c.uow())
        except DomainError as err:
            return _failed(err, _url("index"))
        return _render("agreements/revoke.html", agreement=shown)
    try:
        agreements.revoke_agreement(agreement_id, ids, c.uow(), c.bank, c.clock)
    except DomainError as err:
        return _failed(err, _url("index"))
    flash("协议已撤销")
    return redirect(_url("index"))


def auto_pay(agreement_id: int):
    """自动缴费 on or off."""
    c, on = _c(), request.form.get("on") == "1"
    try:
        agreements.switch_auto_pay(agreement_id, on, _person_ids(), c.uow(), c.clock)
    except DomainError as err:
        return _failed(err, _url("index"))
    flash("已开启自动缴费，到期应缴费用将由税务部门统一扣款" if on else "已关闭自动缴费")
    return redirect(_url("index"))


# -- the payment password ----------------------------------------------------------------------

def password():
    """设置支付密码: 发送验证码, the code, the password twice."""
    c, errors = _c(), {}
    if request.method == "POST" and request.form.get("action") == "send":
        try:
            sent = payment_password.send_password_code(g.person_id, c.uow(), c.sms, c.clock, c.password_rules)
        except DomainError as err:
            errors[err.field or "form"] = err.message
        else:
            flash(f"验证码已发送至{sent['sent_to']}")
            return redirect(_url("password"))
    elif request.method == "POST":
        f = request.form
        try:
            payment_password.set_payment_password(g.person_id, f.get("sms_code", ""), f.get("password", ""),
                                                  f.get("password_again", ""), c.uow(), c.password_hasher, c.clock,
                                                  c.password_rules)
        except DomainError as err:
            errors[err.field or "form"] = err.message
        else:
            flash("设置支付密码成功")
            return redirect(_url("index"))
    status = payment_password.password_status(g.person_id, c.uow(), c.clock)
    return _render("agreements/password.html", status=status, errors=errors), 400 if errors else 200


def password_enabled():
    """设置支付密码是否启用 (the current password is asked for; wrong entries count towards the lock)."""
    c, on = _c(), request.form.get("enabled") == "1"
    done = _locking(lambda: payment_password.set_password_enabled(
        g.person_id, on, request.form.get("password", ""), c.uow(), c.password_hasher, c.clock, c.password_rules),
        "已启用支付密码" if on else "已关闭支付密码，协议缴纳时将不再要求输入支付密码", _url("index"))
    return redirect(_url("index")) if isinstance(done, dict) else done


def _locking(call, done: str, back: str):
    """Run a password-checked call; the third wrong entry signs the account out (seed 001)."""
    try:
        result = call()
    except TooManyAttempts as locked:
        if locked.details.get("logout"):
            account_login.end_session(session.get("account_token"), _c().accounts)
            session.clear()
            flash(locked.message)
            _, _, channel, _ = _site()
            return redirect(url_for("accounts_web.login", channel=channel))
        return _failed(locked, back)
    except DomainError as err:
        return _failed(err, back)
    if done:
        flash(done)
    return result


# -- 协议缴纳 ----------------------------------------------------------------------------------

def _due(ids: list[int]) -> list[dict]:
    c = _c()
    return [dict(a, person_id=pid) for pid in ids
            for a in declarations.list_assessments(pid, c.uow(), state="declared_unpaid")]


def pay():
    """Tick due assessments (特殊缴费 cannot be paid by agreement), then confirm; a checkout's choice comes ticked."""
    chosen = {int(x) for x in request.args.getlist("assessment_ids") if x.isdigit()}
    return _render("agreements/pay.html", due=_due(_person_ids()), chosen=chosen)


def pay_confirm():
    """The order amount, the agreement to use and (when enabled) the payment password."""
    c, ids = _c(), _person_ids()
    chosen = {int(x) for x in request.form.getlist("assessment_ids") if x.isdigit()}
    items = [a for a in _due(ids) if a["id"] in chosen]
    if not items:
        flash("请勾选要缴纳的欠费信息")
        return redirect(_url("pay"))
    if any(a["kind"] == "special" for a in items):
        flash("特殊缴费不支持协议扣款，请选择其他缴费方式")
        return redirect(request.referrer or _url("pay"))
    usable = [a for a in agreements.list_agreements(ids, c.uow()) if a["usable"]
              and all(a["person_id"] == i["person_id"] for i in items)]
    return _render("agreements/pay_confirm.html", items=items, total_fen=sum(a["amount_fen"] for a in items),
                   agreements=usable, password=payment_password.password_status(g.person_id, c.uow(), c.clock))


def pay_submit():
    """协议缴纳: the bank debits the agreement; the result page shows the order."""
    c, f = _c(), request.form
    _, _, channel, _ = _site()
    req = AgreementPaymentRequest(
        g.person_id, _person_ids(), [int(x) for x in f.getlist("assessment_ids") if x.isdigit()],
        f.get("agreement_id", type=int) or 0, f.get("confirmed_amount_fen", type=int) or 0, channel,
        f.get("password") or None, channel_user=f"account:{g.account.id}")
    paid = _locking(lambda: pay_by_agreement(req, c.uow(), c.payments,
                                             PasswordCheck(c.password_hasher, c.password_rules),
                                             tuple(c.settings["AGREEMENT_PAYMENT_CHANNELS"])), "", _url("pay"))
    if not isinstance(paid, dict):
        return paid  # a redirect: refused, or signed out by the lock
    if paid.get("bank_message"):  # refused with the bank's reason, or still with the bank (the re-query settles it)
        flash(paid["bank_message"] if paid["state"] == "paying" else f"扣款未成功：{paid['bank_message']}")
    return redirect(_url("order", order_no=paid["order_no"]))


def order(order_no: str):
    """The result of an agreement payment."""
    c = _c()
    try:
        shown = orders.show_order(order_no, _person_ids(), c.uow(), channel_user=f"account:{g.account.id}")
    except DomainError as err:
        return _render("agreements/message.html", message=err.message), 404
    return _render("agreements/order.html", order=shown)


def _blueprint(name: str) -> Blueprint:
    bp = Blueprint(name, __name__, url_prefix=SITES[name][0])
    routes = [("/", index, ["GET"]), ("/accounts/new", file_account, ["GET", "POST"]),
              ("/new", new_agreement, ["GET", "POST"]), ("/<int:agreement_id>/revoke", revoke, ["GET", "POST"]),
              ("/<int:agreement_id>/auto-pay", auto_pay, ["POST"]), ("/password", password, ["GET", "POST"]),
              ("/password/enabled", password_enabled, ["POST"]), ("/pay", pay, ["GET"]),
              ("/pay/confirm", pay_confirm, ["POST"]), ("/pay/submit", pay_submit, ["POST"]),
              ("/orders/<order_no>", order, ["GET"])]
    for rule, view, methods in routes:
        bp.add_url_rule(rule, view.__name__, _signed_in(view), methods=methods)

    @bp.errorhandler(400)
    def _refused(error):  # a form without its CSRF token: a page, not the API's JSON
        if getattr(g, "account", None) is None:
            return redirect(url_for("accounts_web.login", channel=SITES[name][2]))
        return _render("agreements/message.html", message=error.description or "请求有误，请返回重试"), 400

    return bp


def blueprints() -> list[Blueprint]:
    return [_blueprint(name) for name in SITES]
