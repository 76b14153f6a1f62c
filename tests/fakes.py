"""In-memory implementations of the service ports, for unit tests of the services."""
from __future__ import annotations

import copy
import itertools
from datetime import date, datetime

from app.domain.model import LIVE_STATES, Assessment, ContributionChoice, Enrollment, Person


class _Store:
    def __init__(self):
        self.persons: dict[int, Person] = {}
        self.enrollments: dict[int, Enrollment] = {}
        self.choices: dict[int, ContributionChoice] = {}
        self.assessments: dict[int, Assessment] = {}
        self.audit: list[tuple] = []
        self.ids = itertools.count(1)


class FakePersons:
    def __init__(self, store):
        self.s = store

    def get(self, person_id):
        return copy.copy(self.s.persons.get(person_id))

    def exists(self, person_id):
        return person_id in self.s.persons

    def find_by_document(self, id_type, id_number):
        return next((copy.copy(p) for p in self.s.persons.values()
                     if (p.id_type, p.id_number) == (id_type, id_number)), None)

    def add(self, person):
        if self.find_by_document(person.id_type, person.id_number):
            return None  # as the database's unique index: the document is registered already
        person.id = next(self.s.ids)
        self.s.persons[person.id] = copy.copy(person)
        return person

    def update_contact(self, person):
        self.s.persons[person.id].phone = person.phone


class FakeEnrollments:
    def __init__(self, store):
        self.s = store

    def get(self, enrollment_id):
        return copy.copy(self.s.enrollments.get(enrollment_id))

    def get_by_insured_number(self, insured_number):
        return next((copy.copy(e) for e in self.s.enrollments.values() if e.insured_number == insured_number), None)

    def list_for_person(self, person_id):
        return [copy.copy(e) for e in self.s.enrollments.values() if e.person_id == person_id]

    def add(self, enrollment):
        if self.get_by_insured_number(enrollment.insured_number):
            return None  # as the database's unique index: the insured number is there already
        enrollment.id = next(self.s.ids)
        self.s.enrollments[enrollment.id] = copy.copy(enrollment)
        return enrollment

    def update(self, enrollment):
        self.s.enrollments[enrollment.id] = copy.copy(enrollment)


class FakeChoices:
    def __init__(self, store):
        self.s = store

    def list_for_enrollment(self, enrollment_id):
        return [copy.copy(c) for c in self.s.choices.values() if c.enrollment_id == enrollment_id]

    def add(self, choice):
        choice.id = next(self.s.ids)
        self.s.choices[choice.id] = copy.copy(choice)
        return choice

    def void(self, choice_id, at: datetime) -> bool:
        choice = self.s.choices[choice_id]
        if choice.voided_at is not None:
            return False
        choice.voided_at = at
        return True


class FakeAssessments:
    def __init__(self, store):
        self.s = store

    def list_for_enrollment(self, enrollment_id):
        return [copy.copy(a) for a in self.s.assessments.values() if a.enrollment_id == enrollment_id]

    def list_by_notice(self, notice_number):
        return [copy.copy(a) for a in self.s.assessments.values() if a.notice_number == notice_number]

    def live_period_starts(self, enrollment_id) -> set[date]:
        return {a.period_start for a in self.s.assessments.values()
                if a.enrollment_id == enrollment_id and a.state in LIVE_STATES and a.kind != "special"}

    def add_many(self, assessments):
        out = []
        for a in assessments:
            a.id = next(self.s.ids)
            self.s.assessments[a.id] = copy.copy(a)
            out.append(a)
        return out

    def find_special(self, notice_number, enrollment_id, period_start):
        return next((copy.copy(a) for a in self.s.assessments.values()
                     if (a.notice_number, a.enrollment_id, a.period_start, a.kind)
                     == (notice_number, enrollment_id, period_start, "special")), None)

    def count_live_for_choice(self, choice_id):
        return sum(1 for a in self.s.assessments.values() if a.choice_id == choice_id and a.state in LIVE_STATES)


class FakeAudit:
    def __init__(self, store):
        self.s = store

    def record(self, kind, subject, data, at):
        self.s.audit.append((kind, subject, data, at))


class FakeUnitOfWork:
    """Writes go to a copy of the store; commit publishes it, anything else drops it."""

    def __init__(self):
        self.committed = _Store()
        self.commits = 0

    def __enter__(self):
        self._work = copy.deepcopy(self.committed)
        self.persons, self.enrollments = FakePersons(self._work), FakeEnrollments(self._work)
        self.choices, self.assessments = FakeChoices(self._work), FakeAssessments(self._work)
        self.audit = FakeAudit(self._work)
        return self

    def __exit__(self, *exc):
        self._work = None

    def commit(self):
        self.committed = copy.deepcopy(self._work)
        self.commits += 1

    def rollback(self):
        self._work = copy.deepcopy(self.committed)


class FakeSessions:
    def __init__(self):
        self.data = {}

    def create(self, person_id, ttl_seconds):
        token = f"token-{len(self.data) + 1}"
        self.data[token] = person_id
        return token

    def get(self, token):
        return self.data.get(token)

    def end(self, token):
        self.data.pop(token, None)


class CountingNotices:
    def __init__(self):
        self.n = 0

    def next(self, region, today):
        self.n += 1
        return f"{region}{today:%Y%m%d}{self.n:010d}"
