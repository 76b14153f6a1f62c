"""Back-office page: the reminders decided and sent (催缴提醒), by kind and state; read-only."""
from __future__ import annotations

from flask import Flask, request

from app.domain import reminders as rules
from app.domain.staff import ANY_ROLE
from app.services import reminders
from app.web.backoffice import deps, make_blueprint, nav_item, render_page, staff_page

bp = make_blueprint("backoffice_reminders", "/backoffice/reminders")


@bp.get("")
@staff_page(ANY_ROLE)
def index():
    """What was sent to whom (masked), by which channel, and what was not sent and why."""
    kind = request.args.get("kind") if request.args.get("kind") in rules.KIND_LABELS else None
    state = request.args.get("state") if request.args.get("state") in rules.STATE_LABELS else None
    rows = reminders.list_sent(deps().reminders, kind=kind, state=state)
    return render_page("backoffice/reminders.html", rows=rows, kind=kind or "", state=state or "",
                       kinds=rules.KIND_LABELS, states=rules.STATE_LABELS)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    nav_item(app, "backoffice_reminders.index", "催缴提醒")
