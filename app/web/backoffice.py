"""The back office's frame (/backoffice): the bureau staff's sign-in with a second factor, the
per-request session and role check, CSRF on every form, the staff action log, and the desktop
layout with its navigation.

How a back-office view requires a role and writes the action log::

    from app.domain.staff import ANY_ROLE, FINANCE
    from app.web.backoffice import audit, make_blueprint, nav_item, render_page, staff_page

    bp = make_blueprint("backoffice_refunds", "/backoffice/refunds")  # the frame's error pages and CSRF

    @bp.get("")
    @staff_page(ANY_ROLE)                 # every role may read, 稽核 (audit) included
    def queue():
        return render_page("backoffice/refunds.html", rows=...)

    @bp.post("/<refund_no>/approve")
    @staff_page(APPROVE)                  # only 审核; 稽核 never acts (it is in no action's roles)
    def approve(refund_no):
        refund_review.approve(refund_no, g.staff.username, ...)   # the service enforces four-eyes
        audit("refund.approve", f"refund:{refund_no}", reason=request.form.get("reason"))
        return redirect(...)

    def init_app(app):                    # register the blueprint and its menu entry
        app.register_blueprint(bp)
        nav_item(app, "backoffice_refunds.queue", "退费审核", ANY_ROLE)

``staff_page(roles)`` reads the session's staff member afresh from the database on every
request (a disabled account, a role taken away or a reset factor ends the session at once),
refuses other roles with 403 (logged as ``denied``), and checks the form's CSRF token on every
POST (the project's session token, ``app/web/security.py``; a form carries
``<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">``). ``g.staff`` is the
``StaffMember``. ``audit(action, target, reason=..., **detail)`` writes one line of the staff
action log; a POST that wrote none gets one written for it (its endpoint as the action), so no
action goes unlogged. Domain errors raised by a view become the frame's error page.
"""
from __future__ import annotations

import logging
from functools import wraps
from urllib.parse import urlparse

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from app.domain.errors import DomainError, Unauthenticated
from app.domain.staff import ANY_ROLE, ROLE_LABELS, ROLES
from app.domain.zone import local_minute
from app.observability.logs import request_id_var
from app.services import backoffice_staff as staff_service
from app.services.backoffice_staff import StaffSession, Where
from app.web.security import check_csrf

log = logging.getLogger(__name__)
SESSION_KEY, PENDING_KEY = "staff", "staff_pending"
HTTP_MESSAGES = {400: "请求有误，请返回重试", 403: "无权访问该页面", 404: "页面或记录不存在",
                 405: "该页面不能这样打开", 429: "操作过于频繁，请稍后再试"}


def deps():
    return current_app.extensions["sbf"].backoffice


def where() -> Where:
    return Where(request_id=request_id_var.get() or None, client_ip=request.remote_addr)


def make_blueprint(name: str, url_prefix: str) -> Blueprint:
    """A back-office blueprint: the frame's error pages for everything its views raise."""
    bp = Blueprint(name, __name__, url_prefix=url_prefix)
    bp.register_error_handler(DomainError, _domain_error)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(Exception, _unexpected)
    return bp


def _domain_error(error: DomainError):
    if isinstance(error, Unauthenticated):
        return _to_login()
    return render_page("backoffice/error.html", message=error.message, code=error.code), error.http_status


def _http_error(error: HTTPException):
    message = error.description if error.code == 400 and "页面" in (error.description or "") else None
    return render_page("backoffice/error.html", message=message or HTTP_MESSAGES.get(error.code, "请求无法完成"),
                       code=str(error.code)), error.code


def _unexpected(error: Exception):
    log.exception("unhandled error on a back-office page")
    return render_page("backoffice/error.html", message="系统繁忙，请稍后再试", code="500"), 500


def _to_login():
    session.pop(SESSION_KEY, None)
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("backoffice.login", next=target))


def nav_item(app: Flask, endpoint: str, label: str, roles: tuple[str, ...] = ANY_ROLE) -> None:
    """Add an entry to the back office's navigation (shown to the staff holding one of ``roles``)."""
    items = app.extensions.setdefault("backoffice_nav", [])
    if all(item[0] != endpoint for item in items):
        items.append((endpoint, label, tuple(roles)))


def render_page(template: str, **context):
    """Render inside the frame: the navigation for the signed-in staff member's roles."""
    member = g.get("staff")
    items = current_app.extensions.get("backoffice_nav", [])
    nav = [(endpoint, label) for endpoint, label, roles in items if member is not None and member.may(roles)]
    return render_template(template, staff=member, nav=nav, ROLE_LABELS=ROLE_LABELS, **context)


def staff_page(roles: tuple[str, ...] | frozenset[str] = ANY_ROLE):
    """A page for signed-in staff holding one of ``roles``; POSTs need the CSRF token and are logged."""
    allowed = tuple(roles)

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                member, fresh = staff_service.current_staff(StaffSession.from_dict(session.get(SESSION_KEY)), deps())
            except Unauthenticated:
                return _to_login()
            session[SESSION_KEY] = fresh.as_dict()
            g.staff, g.audited = member, False
            if request.method == "POST":
                check_csrf()
            if not member.may(allowed):
                audit(f"denied:{request.endpoint}", _target(kwargs), outcome="denied", path=request.path,
                      method=request.method)
                member.require(allowed)  # raises Forbidden: the frame's 403 page
            try:
                answer = view(*args, **kwargs)
            except DomainError as refused:  # a refused action is logged too, with the rule that refused it
                if request.method == "POST" and not g.audited:
                    audit(request.endpoint or "post", _target(kwargs), outcome="failed", code=refused.code,
                          reason=request.form.get("reason") or request.form.get("note") or None)
                raise
            if request.method == "POST" and not g.audited:
                audit(request.endpoint or "post", _target(kwargs), reason=request.form.get("reason") or None)
            return answer
        wrapper.staff_roles = allowed
        return wrapper
    return decorate


def _target(view_args: dict) -> str:
    return ",".join(f"{k}:{v}" for k, v in sorted(view_args.items())) or request.path


def audit(action: str, target: str, *, reason: str | None = None, outcome: str = "done", **detail) -> None:
    """Write one line of the staff action log for the signed-in staff member."""
    staff_service.record(deps(), g.staff, action, target, reason=reason, outcome=outcome, where=where(), **detail)
    g.audited = True


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/backoffice") and not urlparse(target).netloc:
        return target
    return url_for("backoffice.home")


bp = make_blueprint("backoffice", "/backoffice")


@bp.before_request
def _csrf_on_sign_in():
    """The sign-in forms are outside ``staff_page``: their CSRF is checked here."""
    if request.method == "POST" and request.endpoint in ("backoffice.login", "backoffice.second_factor",
                                                         "backoffice.logout"):
        check_csrf()


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The password step."""
    if request.method == "GET":
        return render_page("backoffice/login.html", next=request.args.get("next") or "")
    nxt = request.form.get("next") or ""
    try:
        staff_id, epoch = staff_service.check_password(request.form.get("username", ""),
                                                       request.form.get("password", ""), deps(), where())
    except DomainError as refused:
        return render_page("backoffice/login.html", error=refused.message, next=nxt,
                           username=request.form.get("username", "")), refused.http_status
    session.pop(SESSION_KEY, None)
    session[PENDING_KEY] = {"id": staff_id, "epoch": epoch, "at": deps().clock.now().isoformat(), "next": nxt}
    return redirect(url_for("backoffice.second_factor"))


@bp.route("/login/second-factor", methods=["GET", "POST"])
def second_factor():
    """The second step: the code from the staff member's authenticator."""
    pending = session.get(PENDING_KEY)
    if not pending or _pending_expired(pending):
        session.pop(PENDING_KEY, None)
        return redirect(url_for("backoffice.login"))
    if request.method == "GET":
        return render_page("backoffice/second_factor.html")
    try:
        fresh = staff_service.check_second_factor(int(pending["id"]), int(pending["epoch"]),
                                                  request.form.get("code", ""), deps(), where())
    except Unauthenticated as refused:
        if refused.code == "staff_sign_in_again":
            session.pop(PENDING_KEY, None)
            return redirect(url_for("backoffice.login"))
        return render_page("backoffice/second_factor.html", error=refused.message), 401
    except DomainError as refused:
        session.pop(PENDING_KEY, None)
        return render_page("backoffice/login.html", error=refused.message, next=""), refused.http_status
    session.pop(PENDING_KEY, None)
    session.pop("csrf", None)  # a new token for the signed-in session
    session[SESSION_KEY] = fresh.as_dict()
    return redirect(_safe_next(pending.get("next")))


def _pending_expired(pending: dict) -> bool:
    from datetime import datetime

    try:
        at = datetime.fromisoformat(pending["at"])
    except (KeyError, TypeError, ValueError):
        return True
    return deps().clock.now() - at > deps().rules.pending


@bp.post("/logout")
def logout():
    """Sign out (the session's staff part is dropped)."""
    data = StaffSession.from_dict(session.get(SESSION_KEY))
    if data is not None:
        try:
            member, _ = staff_service.current_staff(data, deps())
            staff_service.record(deps(), member, "staff.sign_out", f"staff:{member.username}", where=where())
        except Unauthenticated:
            pass
    session.pop(SESSION_KEY, None)
    return redirect(url_for("backoffice.login"))


@bp.get("")
@bp.get("/", endpoint="home_slash")  # the address as people type it
@staff_page(ANY_ROLE)
def home():
    """The start page: what the signed-in staff member may do."""
    return render_page("backoffice/home.html", roles=[ROLE_LABELS[r] for r in ROLES if r in g.staff.roles])


@bp.get("/actions")
@staff_page(ANY_ROLE)
def actions():
    """The staff action log (everyone sees it; 稽核 reads it most)."""
    a = request.args
    rows = staff_service.list_actions(deps(), actor=a.get("actor"), action=a.get("action"), target=a.get("target"),
                                      before_id=a.get("before", type=int), limit=100)
    return render_page("backoffice/actions.html", rows=rows, query=a)


def _own_error_pages(app: Flask) -> None:
    """An address under /backoffice that no view serves (an unknown page, a wrong method) gets the frame's
    error page too: the blueprint's handlers see only what its own views raise, the app's answer JSON."""
    spec = app.error_handler_spec.setdefault(None, {}).setdefault(None, {})
    previous = spec.get(HTTPException)

    @app.errorhandler(HTTPException)
    def _routing_error(error: HTTPException):
        if request.path == bp.url_prefix or request.path.startswith(bp.url_prefix + "/"):
            return _http_error(error)
        return previous(error) if previous is not None else error


def init_app(app: Flask) -> None:
    """Register the frame and its own navigation entries."""
    app.register_blueprint(bp)
    _own_error_pages(app)
    app.jinja_env.filters["bj"] = local_minute  # a stored moment in Beijing time
    nav_item(app, "backoffice.home", "首页")
    from app.web import (backoffice_exceptions, backoffice_people, backoffice_reconciliation, backoffice_reminders,
                         backoffice_reports)

    for page in (backoffice_exceptions, backoffice_reconciliation, backoffice_people, backoffice_reports,
                 backoffice_reminders):
        page.init_app(app)
    nav_item(app, "backoffice.actions", "操作日志")
