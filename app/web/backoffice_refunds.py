"""Back-office pages for refund applications (退费审核): the queue, one application with its payment
evidence, and the actions — 受理 (accept), 审核通过 (approve), 不予退费 (reject with a reason).

Everyone reads (稽核 included). Accepting is 受理's; approving is 审核's, and the service refuses the
staff member who accepted (four eyes) whatever roles they hold; rejecting is either's. Every action
writes the staff action log (``audit``) beside the application's own audit events.
"""
from __future__ import annotations

from flask import Flask, current_app, flash, g, redirect, request, url_for

from app.domain.refund_applications import STATE_LABELS
from app.domain.staff import ACCEPT, ANY_ROLE, APPROVE
from app.services import refund_applications as ra
from app.web.backoffice import audit, make_blueprint, nav_item, render_page, staff_page

bp = make_blueprint("backoffice_refunds", "/backoffice/refunds")


def _c():
    return current_app.extensions["sbf"]


@bp.get("")
@staff_page(ANY_ROLE)
def queue():
    """The applications to work on (or those of one state), oldest first."""
    state = request.args.get("state", "")
    states = (state,) if state in STATE_LABELS else ra.QUEUE_STATES
    return render_page("refunds/review_queue.html", rows=ra.refund_queue(_c().uow(), states), state=state,
                       states=STATE_LABELS)


@bp.get("/<application_no>")
@staff_page(ANY_ROLE)
def detail(application_no):
    """One application: the payer (masked), the items with their payment evidence, the payouts."""
    c = _c()
    a = ra.refund_application_detail(application_no, c.uow(), c.certificates)
    return render_page("refunds/review_detail.html", a=a, may_accept=g.staff.may((ACCEPT,)),
                       may_approve=g.staff.may((APPROVE,)), may_reject=g.staff.may((ACCEPT, APPROVE)))


@bp.post("/<application_no>/accept")
@staff_page((ACCEPT,))
def accept(application_no):
    a = ra.accept_refund_application(application_no, g.staff.username, _c().uow(), _c().clock)
    audit("refund_application.accept", f"refund_application:{application_no}", state=a["state"])
    flash("已受理，等待其他审核人员审核", "notice")
    return redirect(url_for(".detail", application_no=application_no))


@bp.post("/<application_no>/approve")
@staff_page((APPROVE,))
def approve(application_no):
    c = _c()
    a = ra.approve_refund_application(application_no, g.staff.username, c.uow(), c.payments)
    audit("refund_application.approve", f"refund_application:{application_no}", state=a["state"],
          payouts=[p["route"] for p in a["payouts"]])
    flash("审核通过，退费已提交办理", "notice")
    return redirect(url_for(".detail", application_no=application_no))


@bp.post("/<application_no>/reject")
@staff_page((ACCEPT, APPROVE))
def reject(application_no):
    reason = request.form.get("reason", "")
    ra.reject_refund_application(application_no, g.staff.username, reason, _c().uow(), _c().clock)
    audit("refund_application.reject", f"refund_application:{application_no}", reason=reason.strip())
    flash("已作出不予退费决定", "notice")
    return redirect(url_for(".detail", application_no=application_no))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    nav_item(app, "backoffice_refunds.queue", "退费审核", ANY_ROLE)
