"""What views need from the app: the container, and the identified person of a request."""
from __future__ import annotations

from flask import current_app, request

from app.bootstrap import Container
from app.services.identification import person_for_session

SESSION_HEADER = "X-Session-Token"


def container() -> Container:
    return current_app.extensions["sbf"]


def session_person_id() -> int:
    """The person identified by the request's session token (401 when there is none)."""
    c = container()
    return person_for_session(request.headers.get(SESSION_HEADER), c.uow(), c.sessions).id


def session_person_ids() -> list[int]:
    """Every person identified by the request's tokens (comma-separated: paying for family members)."""
    c = container()
    tokens = [t.strip() for t in request.headers.get(SESSION_HEADER, "").split(",") if t.strip()]
    if not tokens:
        return [session_person_id()]  # raises the 401
    return sorted({person_for_session(tok, c.uow(), c.sessions).id for tok in tokens[:10]})
