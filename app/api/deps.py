"""What views need from the app: the container, and the identified person of a request."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, request

from app.domain.errors import Unauthenticated
from app.services.identification import person_for_session

if TYPE_CHECKING:  # the views only read the container the root built; they never build one
    from app.bootstrap import Container

SESSION_HEADER = "X-Session-Token"


def container() -> "Container":
    return current_app.extensions["sbf"]


def session_person_id() -> int:
    """The person identified by the request's session token (401 when there is none)."""
    c = container()
    return person_for_session(request.headers.get(SESSION_HEADER), c.uow(), c.sessions).id


def session_person_ids(fallback_token: str | None = None) -> list[int]:
    """Every person identified by the request's tokens (comma-separated: paying for family members)."""
    return sorted(set(_session_persons(fallback_token)))


def session_payer_and_persons() -> tuple[int, list[int]]:
    """Who pays — the person of the first token, as the caller states it — and every person identified."""
    persons = _session_persons(None)
    return persons[0], sorted(set(persons))


def _session_persons(fallback_token: str | None) -> list[int]:
    c = container()
    header = request.headers.get(SESSION_HEADER) or fallback_token or ""
    tokens = [t.strip() for t in header.split(",") if t.strip()]
    if not tokens:
        raise Unauthenticated("identification_required", "请先输入参保人姓名和证件信息进行身份确认")
    return [person_for_session(tok, c.uow(), c.sessions).id for tok in tokens[:10]]
