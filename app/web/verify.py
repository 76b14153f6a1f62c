"""The public verification page (完税（费）证明查验), where a certificate's QR code leads.

Anyone may ask, without identifying: by certificate number and verification code (what the
QR link carries), or by e-ticket number with the document number optional (posted in the
form, never in the address, which access logs keep). The answer is
"genuine" with masked details, or one "not found" for everything else. Asking is rate-limited
per client address, together with the API's verification endpoint (one shared counter).
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template, request

from app.domain.errors import DomainError
from app.limits import init_limiter, verification_limit
from app.services import certificates

bp = Blueprint("verify", __name__, url_prefix="/verify", template_folder="templates")


def init_app(app: Flask) -> None:
    init_limiter(app)
    app.register_blueprint(bp)


def verify(asked) -> dict:
    """Verify what the form asks for: a certificate (number + code) or an e-ticket number."""
    c = current_app.extensions["sbf"]
    return certificates.verify_asked(asked, c.uow(), c.policies, c.certificates)


@bp.route("", methods=["GET", "POST"])
def page():
    """The form, and the answer when something was asked."""
    asked = _asked()
    if not (asked["certificate_no"] or asked["e_ticket_number"]):
        return render_template("verify/page.html", asked=asked, result=None, error=None)
    with verification_limit():
        result = verify(asked)
    return render_template("verify/page.html", asked=asked, result=result, error=None)


@bp.errorhandler(DomainError)
def _refused(error: DomainError):
    """Not found, or a malformed number: shown on the page, with the status the API would answer."""
    return render_template("verify/page.html", asked=_asked(), result=None, error=error.message), error.http_status


@bp.errorhandler(429)
def _too_many(_error):
    return render_template("verify/page.html", asked=_asked(), result=None, error="查验过于频繁，请稍后再试"), 429


def _asked() -> dict:
    # the document number comes only in a posted form: a query string ends up in access logs
    source = request.form if request.method == "POST" else request.args
    asked = {k: source.get(k, "").strip()[:64] for k in ("certificate_no", "code", "e_ticket_number", "id_number")}
    if request.method != "POST":
        asked["id_number"] = ""
    return asked
