"""扫码登录 pages: the web e-tax bureau shows a QR and waits; the tax app (signed in) opens the QR's
link and confirms; the web page then signs in with a new cookie session of its own."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for

from app.domain.errors import DomainError, Unauthenticated
from app.services import account_qr
from app.web.account_pages import BRANDS, _continue, _error, _qr
from app.web.security import check_csrf
from werkzeug.exceptions import HTTPException

bp = Blueprint("accounts_qr", __name__, url_prefix="/accounts")


def _deps():
    return current_app.extensions["sbf"].accounts


bp.register_error_handler(HTTPException, _error)  # pages answer errors as pages


@bp.before_request
def _csrf():
    if request.method == "POST":
        check_csrf()


@bp.get("/qr-login")
def qr_login():
    """The web page's QR (to scan with the tax app) and its polling."""
    started = account_qr.start_qr_login(_deps())
    session["qr_login"] = started["qr_id"]
    session.setdefault("account_next", {"channel": "etax_web"})
    return render_template("accounts/qr_login.html", brand=BRANDS["etax_web"], errors={},
                           qr=_qr(started["confirm_url"]), confirm_url=started["confirm_url"],
                           qr_id=started["qr_id"])


@bp.get("/qr-login/<qr_id>/state")
def qr_state(qr_id):
    return jsonify({"state": account_qr.qr_login_state(qr_id, _deps())})


@bp.get("/qr-login/<qr_id>/finish")
def qr_finish(qr_id):
    """Confirmed by the app: a new cookie session for this browser (nothing from before survives)."""
    if session.get("qr_login") != qr_id:  # only the browser that showed the QR
        return redirect(url_for("accounts_qr.qr_login"))
    try:
        opened = account_qr.finish_qr_login(qr_id, _deps(), previous_token=session.get("account_token"))
    except DomainError as err:
        flash(err.message)
        return redirect(url_for("accounts_qr.qr_login"))
    keep = {k: session[k] for k in ("account_next",) if k in session}
    session.clear()
    session.update(keep, account_token=opened["session_token"])
    return redirect(url_for("accounts_web.consent")) if opened["consent_required"] else _continue()


@bp.route("/qr/<qr_id>", methods=["GET", "POST"])
def qr_confirm(qr_id):
    """What the tax app opens when it scans the QR: confirm the web sign-in."""
    errors, status, done = {}, 200, False
    if request.method == "POST":
        try:
            account_qr.confirm_qr_login(qr_id, session.get("account_token"), _deps())
            done = True
        except Unauthenticated:
            session["account_next"] = {"channel": "tax_app", "path": url_for("accounts_qr.qr_confirm", qr_id=qr_id)}
            return redirect(url_for("accounts_web.login"))
        except DomainError as err:
            errors, status = {"form": err.message}, err.http_status
    elif not session.get("account_token"):
        session["account_next"] = {"channel": "tax_app", "path": url_for("accounts_qr.qr_confirm", qr_id=qr_id)}
        return redirect(url_for("accounts_web.login"))
    return render_template("accounts/qr_confirm.html", brand=BRANDS["tax_app"], errors=errors, done=done,
                           state=account_qr.qr_login_state(qr_id, _deps())), status
