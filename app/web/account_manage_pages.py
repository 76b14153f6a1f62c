"""Account self-service pages (seeds 000, 001, 004): 忘记密码, 找回手机号码, and for a signed-in account
用户管理 (密码修改, 安全及通知手机号). Each form has its CSRF token; the services answer alike for
accounts that do not exist, and every change is in the audit log."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from app.domain.accounts import SMS_CHANGE_PASSWORD, SMS_CHANGE_PHONE
from app.domain.documents import ACCOUNT_ID_TYPES
from app.domain.errors import DomainError, Unauthenticated
from app.services import account_login, account_recovery
from app.web.account_pages import BRANDS, _error, _login_data
from app.web.security import check_csrf
from werkzeug.exceptions import HTTPException

bp = Blueprint("accounts_manage", __name__, url_prefix="/accounts")


def _deps():
    return current_app.extensions["sbf"].accounts


def _render(template: str, status: int = 200, **context):
    return render_template(template, brand=BRANDS["etax_web"], id_types=ACCOUNT_ID_TYPES,
                           errors=context.pop("errors", {}), **context), status


bp.register_error_handler(HTTPException, _error)  # pages answer errors as pages


@bp.before_request
def _csrf():
    if request.method == "POST":
        check_csrf()


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """忘记密码: the account, a code to its phone, then a new password."""
    form, errors, status = request.form.to_dict(), {}, 200
    if request.method == "POST":
        data = {**_login_data(form), "sms_code": form.get("sms_code", ""), "new_password": form.get("new_password", "")}
        try:
            if form.get("action") == "send_code":
                flash(account_recovery.start_password_reset(data["kind"], data, _deps(), request.remote_addr)["message"])
            else:
                flash(account_recovery.reset_password(data["kind"], data, _deps(), request.remote_addr)["message"])
                return redirect(url_for("accounts_web.login"))
        except DomainError as err:
            errors, status = {err.field or "form": err.message}, err.http_status
    form.pop("new_password", None)
    return _render("accounts/forgot_password.html", status, form=form, errors=errors)


@bp.route("/phone/recover", methods=["GET", "POST"])
def recover_phone():
    """找回手机号码: document, name and password, then the new phone's code."""
    form, errors, status = request.form.to_dict(), {}, 200
    if request.method == "POST":
        try:
            if form.get("action") == "send_code":
                sent = account_recovery.send_recovery_code(form, _deps(), request.remote_addr)
                flash(f"验证码已发送至 {sent['sent_to']}")
            else:
                flash(account_recovery.recover_phone(form, _deps(), request.remote_addr)["message"])
                return redirect(url_for("accounts_web.login"))
        except DomainError as err:
            errors, status = {err.field or "form": err.message}, err.http_status
    form.pop("password", None)
    return _render("accounts/recover_phone.html", status, form=form, errors=errors)


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    """用户管理: 密码修改 and 安全及通知手机号."""
    token, d = session.get("account_token"), _deps()
    try:
        account = account_login.consented_account(token, d)
    except DomainError:
        return redirect(url_for("accounts_web.login"))
    form, errors, status = request.form.to_dict(), {}, 200
    if request.method == "POST":
        action = form.get("action", "")
        try:
            if action == "password_code":
                flash(f"验证码已发送至 {account_recovery.send_account_code(token, SMS_CHANGE_PASSWORD, d, None, request.remote_addr)['sent_to']}")
            elif action == "phone_code":
                sent = account_recovery.send_account_code(token, SMS_CHANGE_PHONE, d, form.get("new_phone"),
                                                          request.remote_addr)
                flash(f"验证码已发送至 {sent['sent_to']}")
            elif action == "password":
                flash(account_recovery.change_password(token, form, d, request.remote_addr)["message"])
                return redirect(url_for("accounts_manage.settings"))
            elif action == "phone":
                flash(account_recovery.change_phone(token, form, d)["message"])
                return redirect(url_for("accounts_manage.settings"))
        except Unauthenticated as err:
            if err.code.startswith("account_session"):
                return redirect(url_for("accounts_web.login"))
            errors, status = {err.field or "form": err.message}, err.http_status
        except DomainError as err:
            errors, status = {err.field or "form": err.message}, err.http_status
    for secret in ("old_password", "new_password"):
        form.pop(secret, None)
    return _render("accounts/settings.html", status, form=form, errors=errors,
                   account=account_login.account_view(account))
