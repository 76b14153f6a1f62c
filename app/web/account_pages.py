"""The account pages (tax app and web e-tax bureau): sign-in with the SMS second factor, the
privacy consent, registration with its identity check, and the way back into a channel.

Views only parse a form, call an account service and render. Every form carries the CSRF token.
The signed cookie session holds the account token; signing in clears the whole cookie session
and starts a new one (no fixation), keeping only where to go next. A channel entry
(``/channels/tax_app/start``) lands here with its one-time state; once signed in, the account
service issues a ticket bound to it and the browser goes to the channel's callback.
"""
from __future__ import annotations

import io
from base64 import b64encode

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from app.domain.accounts import GENDERS, NATIONALITIES, PRIVACY_CONSENT_VERSION, SMS_REGISTER, normalize_phone
from app.domain.documents import ACCOUNT_ID_TYPES
from app.domain.errors import DomainError, Unauthenticated
from app.services import account_login, account_recovery, accounts
from app.services.account_codes import send_code
from app.web.security import check_csrf

bp = Blueprint("accounts_web", __name__, url_prefix="/accounts")
BRANDS = {"tax_app": "税税通 / 移动办税 · 个人登录", "etax_web": "电子税务局 · 自然人业务"}


def _deps():
    return current_app.extensions["sbf"].accounts


def _render(template: str, **context):
    nxt = session.get("account_next") or {}
    return render_template(template, brand=BRANDS.get(nxt.get("channel"), BRANDS["etax_web"]),
                           errors=context.pop("errors", {}), id_types=ACCOUNT_ID_TYPES, **context)


@bp.before_request
def _csrf():
    if request.method == "POST":
        check_csrf()


@bp.errorhandler(HTTPException)
def _error(error: HTTPException):
    message = error.description if error.code == 400 and "页面" in (error.description or "") else "请求有误，请返回重试"
    return _render("accounts/error.html", message=message), error.code


def _field_errors(err: DomainError) -> dict:
    return {err.field or "form": err.message}


def _remember_next() -> None:
    """A channel entry says where to go after signing in; only our own callback is accepted."""
    state, channel, target = (request.args.get(k, "") for k in ("state", "channel", "redirect_uri"))
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/"
    if state and channel and target.startswith(base + "channels/"):
        session["account_next"] = {"state": state, "channel": channel, "redirect_uri": target}
    elif request.args.get("channel") in BRANDS:
        nxt = request.args.get("next", "")
        session["account_next"] = {"channel": request.args["channel"],
                                   **({"path": nxt} if nxt.startswith(("/etax/", "/tax-app/", "/refunds/")) else {})}


def _continue():
    """After signing in (and consenting): back into the channel that sent the payer here, or 我的信息."""
    nxt = session.get("account_next") or {}
    if str(nxt.get("path", "")).startswith(("/accounts/qr/", "/etax/", "/tax-app/", "/refunds/")):
        session.pop("account_next", None)
        return redirect(nxt["path"])
    if nxt.get("state"):
        session.pop("account_next", None)
        ticket = account_login.channel_ticket(session.get("account_token"), nxt["state"], _deps())
        return redirect(f"{nxt['redirect_uri']}?code={ticket}&state={nxt['state']}")
    if nxt.get("channel") == "etax_web":
        return redirect(url_for("etax.me"))
    return redirect(url_for("accounts_web.me"))


def _login_data(form: dict) -> dict:
    kind = form.get("kind") if form.get("kind") in ("username", "phone", "document") else "username"
    ident = form.get("identifier", "").strip()
    return {"kind": kind, "username": ident, "phone": ident, "id_number": ident,
            "id_type": form.get("id_type") or "resident_id", "password": form.get("password", ""),
            "human_check": form.get("human_check", "")}


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign-in step one: how to identify, the password and the proof-of-work."""
    errors, status = {}, 200
    form = {"kind": "username", "id_type": "resident_id"}
    if request.method == "GET":
        _remember_next()
        try:
            account_login.session_account(session.get("account_token"), _deps(), touch=False)
            return _continue() if not _needs_consent() else redirect(url_for("accounts_web.consent"))
        except DomainError:
            pass
    else:
        form = request.form.to_dict()
        data = _login_data(form)
        try:
            started = account_login.start_login(data["kind"], data, _deps(), request.remote_addr)
        except DomainError as err:
            errors, status = _field_errors(err), err.http_status
        else:
            session["login_challenge"], session["login_sent_to"] = started["challenge"], started["sent_to"]
            return redirect(url_for("accounts_web.verify"))
    form.pop("password", None)
    return _render("accounts/login.html", form=form, errors=errors), status


def _needs_consent() -> bool:
    return account_login.session_account(session.get("account_token"), _deps(), touch=False).needs_consent


@bp.route("/login/verify", methods=["GET", "POST"])
def verify():
    """Sign-in step two: the SMS code; then a new cookie session with the new token."""
    if not session.get("login_challenge"):
        return redirect(url_for("accounts_web.login"))
    errors, status = {}, 200
    if request.method == "POST":
        try:
            opened = account_login.finish_login(session["login_challenge"], request.form.get("sms_code", ""), _deps(),
                                                previous_token=session.get("account_token"), channel="web")
        except DomainError as err:
            if err.code == "login_challenge_expired" or err.http_status == 429:
                session.pop("login_challenge", None)
                flash(err.message)
                return redirect(url_for("accounts_web.login"))
            errors, status = _field_errors(err), err.http_status
        else:
            keep = {k: session[k] for k in ("account_next",) if k in session}
            session.clear()  # a new cookie session: nothing from before signing in survives (no fixation)
            session.update(keep, account_token=opened["session_token"])
            return redirect(url_for("accounts_web.consent")) if opened["consent_required"] else _continue()
    return _render("accounts/verify.html", sent_to=session.get("login_sent_to", ""), errors=errors), status


@bp.route("/consent", methods=["GET", "POST"])
def consent():
    """首次登录: the 个人信息保护告知同意书, recorded with its version."""
    errors, status = {}, 200
    try:
        if not _needs_consent():
            return _continue()
        if request.method == "POST":
            if request.form.get("agree") != "1":
                errors, status = {"agree": "请勾选同意后继续"}, 400
            else:
                account_recovery.record_consent(session.get("account_token"), request.form.get("version", ""), _deps())
                return _continue()
    except Unauthenticated:
        return redirect(url_for("accounts_web.login"))
    except DomainError as err:
        errors, status = _field_errors(err), err.http_status
    return _render("accounts/consent.html", version=PRIVACY_CONSENT_VERSION, errors=errors), status


@bp.get("/me")
def me():
    """我的信息: the account (masked) and, once known to the bureaus, the enrollments."""
    from app.services import enrollments

    try:
        account = account_login.consented_account(session.get("account_token"), _deps())
    except DomainError:
        return redirect(url_for("accounts_web.login"))
    items = enrollments.list_enrollments(account.person_id, current_app.extensions["sbf"].uow()) \
        if account.person_id else []
    return _render("accounts/me.html", account=account_login.account_view(account), enrollments=items)


@bp.post("/logout")
def logout():
    if session.get("account_token"):
        account_login.end_session(session["account_token"], _deps())
    session.clear()
    flash("已退出登录")
    return redirect(url_for("accounts_web.login"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    """用户注册: agreement, identity, username, password, phone with its code."""
    _remember_next() if request.method == "GET" else None
    form, errors, status = {"id_type": "resident_id", "nationality": "CHN"}, {}, 200
    if request.method == "POST":
        form = request.form.to_dict()
        form["agreed"] = form.get("agreed") == "1"
        d = _deps()
        try:
            if form.get("action") == "send_code":
                account_login.require_human(form.get("human_check"), d)
                sent = send_code(SMS_REGISTER, normalize_phone(form.get("phone", "")), d, request.remote_addr)
                flash(f"验证码已发送至 {sent['sent_to']}")
            else:
                done = accounts.register_account(form, d)
                if done["status"] == "registered":
                    flash("注册成功，请登录")
                    return redirect(url_for("accounts_web.login"))
                session["registration_check_url"] = done["check_url"]
                return redirect(url_for("accounts_web.identity_check", registration_id=done["registration_id"]))
        except DomainError as err:
            errors, status = _field_errors(err), err.http_status
    form.pop("password", None)
    return _render("accounts/register.html", form=form, errors=errors, genders=GENDERS,
                   nationalities=NATIONALITIES), status


@bp.route("/register/<registration_id>", methods=["GET", "POST"])
def identity_check(registration_id):
    """人脸识别认证: the check's QR (to scan with the tax app), then 下一步 completes the registration."""
    errors, status = {}, 200
    if request.method == "POST":
        try:
            accounts.complete_registration(registration_id, _deps())
        except DomainError as err:
            errors, status = _field_errors(err), err.http_status
        else:
            flash("注册成功，请登录")
            return redirect(url_for("accounts_web.login"))
    check_url = session.get("registration_check_url", "")
    return _render("accounts/identity_check.html", check_url=check_url, qr=_qr(check_url), errors=errors), status


def _qr(text: str) -> str:
    import qrcode  # imported when a QR is drawn, not at start-up
    import qrcode.image.svg

    image = qrcode.make(text or "-", image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + b64encode(buffer.getvalue()).decode()
