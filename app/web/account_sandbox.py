"""The SMS and identity-verification sandboxes' pages and API (development and tests only).

``/sandbox/sms`` lists the phones with messages, ``/sandbox/sms/<phone>`` is a phone's inbox
and ``/sandbox/sms/api/<phone>`` the same as JSON (newest first). ``/sandbox/identity/checks/<id>``
is the liveness check as the tax app would show it, with 通过 / 不通过; the API
``POST /sandbox/identity/api/checks/<id>`` takes ``{"outcome": "passed" | "failed"}``.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, request

bp = Blueprint("account_sandbox", __name__, url_prefix="/sandbox", template_folder="templates")


def _deps():
    return current_app.extensions["sbf"].accounts


@bp.get("/sms")
def phones():
    return render_template("account_sandbox/phones.html", phones=_deps().sms.phones())


@bp.get("/sms/<phone>")
def inbox(phone):
    return render_template("account_sandbox/inbox.html", phone=phone, messages=_deps().sms.inbox(phone))


@bp.get("/sms/api/<phone>")
def inbox_api(phone):
    return jsonify(_deps().sms.inbox(phone))


@bp.post("/sms/api/switch")
def switch():
    _deps().sms.switch(bool((request.get_json(silent=True) or {}).get("down")))
    return jsonify({"ok": True})


@bp.route("/identity/checks/<check_id>", methods=["GET", "POST"])
def check_page(check_id):
    verifier = _deps().verifier
    if request.method == "POST":
        verifier.decide(check_id, request.form.get("outcome", ""))
    check = verifier.get(check_id)
    if check is None:
        abort(404)
    return render_template("account_sandbox/check.html", check=check, check_id=check_id)


@bp.post("/identity/api/checks/<check_id>")
def check_api(check_id):
    outcome = (request.get_json(silent=True) or {}).get("outcome", "")
    if not _deps().verifier.decide(check_id, outcome):
        return jsonify({"ok": False}), 409
    return jsonify({"ok": True})
