"""Back-office pages: find a person by document number (masked), unmask with a reason.

The search is a POST, so a document number never sits in an address, a history or a log line.
"""
from __future__ import annotations

from flask import Flask, current_app, g, request

from app.domain.documents import ACCOUNT_ID_TYPES
from app.domain.staff import ANY_ROLE
from app.services import backoffice_people as people
from app.web.backoffice import audit, deps, make_blueprint, nav_item, render_page, staff_page, where

bp = make_blueprint("backoffice_people", "/backoffice/people")
ID_TYPES = [(t.value, t.label) for t in ACCOUNT_ID_TYPES]


def _uow():
    return current_app.extensions["sbf"].uow()


@bp.route("", methods=["GET", "POST"])
@staff_page(ANY_ROLE)
def search():
    """Search by document type and number (exact)."""
    if request.method == "GET":
        return render_page("backoffice/people.html", id_types=ID_TYPES, person=None, chosen="resident_id")
    chosen = request.form.get("id_type", "")
    person = people.find_person(chosen, request.form.get("id_number", ""), g.staff.username, deps(), _uow(), where())
    audit("person.search", f"person:{person['id']}")
    return render_page("backoffice/people.html", id_types=ID_TYPES, person=person, chosen=chosen)


@bp.post("/<int:person_id>/unmask")
@staff_page(ANY_ROLE)
def unmask(person_id):
    """Show the person in full, for the reason given (kept in the access log and the action log)."""
    reason = request.form.get("reason", "")
    person = people.unmask_person(person_id, reason, g.staff.username, deps(), _uow(), where())
    audit("person.unmask", f"person:{person_id}", reason=reason.strip())
    return render_page("backoffice/people.html", id_types=ID_TYPES, person=person, chosen="")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    nav_item(app, "backoffice_people.search", "人员与缴费查询")
