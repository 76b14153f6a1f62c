"""Identify the insured person by name and document, and keep who they are for a while."""
from __future__ import annotations

import hmac
import unicodedata

from app.domain.documents import normalize_document
from app.domain.errors import NotFound, Unauthenticated
from app.domain.model import Person
from app.services.ports import Clock, IdentificationSessions, UnitOfWork
from app.services.views import enrollment_view, person_view

# One answer for "no such number" and "wrong name", so numbers cannot be probed.
NOT_MATCHED = ("identity_not_matched", "未查询到参保信息，请核对姓名、证件类型和证件号码")


def normalize_name(name: str) -> str:
    """Compare names as people type them: NFKC, no spaces, one kind of middle dot (少数民族姓名)."""
    text = unicodedata.normalize("NFKC", name or "")
    for dot in ("•", "・", "‧", "∙", "．", "."):
        text = text.replace(dot, "·")
    return "".join(text.split())


def identify_person(name: str, id_type: str, id_number: str, uow: UnitOfWork,
                    sessions: IdentificationSessions, ttl_seconds: int, clock: Clock) -> dict:
    """Name + document → a session token, the masked person and their enrollments."""
    number = normalize_document(id_type, id_number, today=clock.today())
    with uow:
        person = uow.persons.find_by_document(id_type, number)
        if person is None or not hmac.compare_digest(normalize_name(person.name).encode(),
                                                     normalize_name(name).encode()):
            raise NotFound(*NOT_MATCHED)
        enrollments = uow.enrollments.list_for_person(person.id)
    token = sessions.create(person.id, ttl_seconds)
    return {"token": token, "expires_in": ttl_seconds, "person": person_view(person),
            "enrollments": [enrollment_view(e) for e in enrollments]}


def person_for_session(token: str | None, uow: UnitOfWork, sessions: IdentificationSessions) -> Person:
    """The person a session token stands for; 401 when it is missing or expired."""
    person_id = sessions.get(token) if token else None
    if person_id is None:
        raise Unauthenticated("identification_required", "请先输入参保人姓名和证件信息进行身份确认")
    with uow:
        person = uow.persons.get(person_id)
    if person is None:
        raise Unauthenticated("identification_required", "请先输入参保人姓名和证件信息进行身份确认")
    return person
