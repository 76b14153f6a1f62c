"""Two bureau pushes registering the same new person at the same moment (the HR and the medical bureau
each enrolling them): the second waits for the first, finds the person and the enrollment it made,
and reports them unchanged — no 500, no rejected row, no second person."""
from __future__ import annotations

from sqlalchemy import func, select

from app.adapters import tables as t
from app.domain.documents import resident_id_check_char
from app.domain.model import Enrollment, Person
from app.domain.periods import Month
from app.services import bureau
from tests.races import race

NUMBER = "37020219920305123" + resident_id_check_char("37020219920305123")
ROW = {"name": "孙悦", "id_type": "resident_id", "id_number": NUMBER, "insurance": "pension", "region": "370200",
       "category": "flexible", "insured_number": "R-RACE-1", "start_month": "2024-01"}


def test_a_push_racing_another_for_the_same_new_person_finds_what_the_first_registered(container):
    c = container

    def first(uow):  # the first push has registered the person and the enrollment, not committed yet
        person = uow.persons.add(Person(id_type="resident_id", id_number=NUMBER, name="孙悦"))
        uow.enrollments.add(Enrollment(person_id=person.id, insurance="pension", region="370200", category="flexible",
                                       insured_number="R-RACE-1", start_month=Month(2024, 1)))

    report = race(c, first, lambda: bureau.import_enrollments([ROW], c.uow(), c.clock))
    assert report == {"created": 0, "updated": 0, "unchanged": 1, "rejected": []}, report
    with c.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.person)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(t.enrollment)).scalar_one() == 1


def test_a_person_or_enrollment_added_twice_is_refused_by_the_repository_without_breaking_the_transaction(container):
    with container.uow() as uow:
        person = uow.persons.add(Person(id_type="resident_id", id_number=NUMBER, name="孙悦"))
        assert uow.persons.add(Person(id_type="resident_id", id_number=NUMBER, name="孙悦")) is None
        enrollment = Enrollment(person_id=person.id, insurance="pension", region="370200", category="flexible",
                                insured_number="R-TWICE", start_month=Month(2024, 1))
        assert uow.enrollments.add(enrollment) is not None
        assert uow.enrollments.add(Enrollment(**{**enrollment.__dict__, "id": None})) is None
        uow.commit()  # the transaction is still good
    with container.uow() as uow:
        assert uow.persons.find_by_document("resident_id", NUMBER).name == "孙悦"
