"""Back-office pages: the money exceptions with their evidence, and the actions that resolve them.

Everyone reads (稽核 included); re-query, send again and resolve are 财务's (finance) actions.
"""
from __future__ import annotations

from flask import Flask, flash, g, redirect, request, url_for

from app.domain.staff import ANY_ROLE, FINANCE
from app.services import backoffice_exceptions as exceptions
from app.web.backoffice import audit, deps, make_blueprint, nav_item, render_page, staff_page

bp = make_blueprint("backoffice_exceptions", "/backoffice/exceptions")


def _c():
    from flask import current_app

    return current_app.extensions["sbf"]


@bp.get("")
@staff_page(ANY_ROLE)
def index():
    """Every unresolved exception, by kind."""
    c = _c()
    found = exceptions.list_exceptions(deps(), c.uow(), c.reconciliation_book)
    return render_page("backoffice/exceptions.html", found=found, labels=exceptions.KIND_LABELS,
                       may_act=g.staff.may((FINANCE,)))


@bp.get("/orders/<order_no>")
@staff_page(ANY_ROLE)
def order(order_no):
    """One order as evidence, with its actions."""
    evidence = exceptions.order_evidence(order_no, deps(), _c().uow())
    return render_page("backoffice/exception_order.html", e=evidence, may_act=g.staff.may((FINANCE,)))


@bp.get("/notifications/<int:notification_id>")
@staff_page(ANY_ROLE)
def notification(notification_id):
    """A refused or mismatched notification, as stored."""
    row = exceptions.notification_evidence(notification_id, deps())
    return render_page("backoffice/exception_notification.html", n=row, may_act=g.staff.may((FINANCE,)))


@bp.post("/orders/<order_no>/requery")
@staff_page((FINANCE,))
def requery(order_no):
    """Ask the provider about the order now."""
    c = _c()
    exceptions.requery_order(order_no, c.uow(), c.payments)
    audit("exception.requery", f"order:{order_no}")
    flash("已发起查询，结果将在数秒内更新", "notice")
    return redirect(url_for(".order", order_no=order_no))


@bp.post("/calls/<int:call_id>/send-again")
@staff_page((FINANCE,))
def send_again(call_id):
    """Send a failing provider call again."""
    c = _c()
    row = exceptions.send_call_again(call_id, c.uow(), c.payments)
    audit("exception.send_again", f"call:{call_id}", kind=row["kind"], key=row["key"])
    flash(f"调用 {call_id} 已重新发送", "notice")
    return redirect(url_for(".index"))


@bp.post("/<kind>/<key>/resolve")
@staff_page((FINANCE,))
def resolve(kind, key):
    """Mark an exception resolved with a note."""
    c = _c()
    note = request.form.get("note", "")
    exceptions.resolve(kind, key, g.staff.username, note, deps(), c.reconciliation_book, c.uow())
    audit("exception.resolve", f"{kind}:{key}", reason=note.strip())
    flash("已标记为已处理", "notice")
    return redirect(url_for(".index"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    nav_item(app, "backoffice_exceptions.index", "异常处理")
