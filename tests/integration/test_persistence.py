"""Repositories on PostgreSQL, sessions on Redis, migrations on SQLite."""
from __future__ import annotations

import time
from datetime import date, datetime

import pytest
from sqlalchemy import create_engine, inspect, select, text
from app.domain.errors import Conflict

from app.adapters import tables as t
from app.adapters.clock import SHANGHAI
from app.adapters.sessions import RedisSessions
from app.domain.model import Assessment, ContributionChoice, Enrollment, Person
from app.domain.periods import Month
from app.migrate import upgrade_database
from tests.timeline import wall_now

NUMBER = "11010519491231002X"


def add_enrollment(uow):
    person = uow.persons.add(Person(id_type="resident_id", id_number=NUMBER, name="王小明", phone="13800000000"))
    enrollment = uow.enrollments.add(Enrollment(person_id=person.id, insurance="pension", region="370200",
                                                category="flexible", insured_number="Q-1", start_month=Month(2020, 1)))
    return person, enrollment


def assessment(enrollment, start=date(2026, 11, 1), kind="regular"):
    return Assessment(enrollment_id=enrollment.id, person_id=enrollment.person_id, insurance="pension",
                      region="370200", period_start=start, period_end=start.replace(day=28), amount_fen=79600,
                      kind=kind, notice_number="N1", declared_at=datetime(2026, 11, 1, tzinfo=SHANGHAI))


def test_personal_data_is_encrypted_at_rest_and_found_by_blind_index(container):
    with container.uow() as uow:
        person, _ = add_enrollment(uow)
        uow.commit()
    with container.engine.connect() as conn:
        row = conn.execute(select(t.person)).one()
        raw = b"".join(bytes(v) for v in (row.id_number_enc, row.name_enc, row.phone_enc))
    assert NUMBER.encode() not in raw and "王小明".encode() not in raw and NUMBER not in row.id_number_index
    with container.uow() as uow:
        found = uow.persons.find_by_document("resident_id", NUMBER)
        assert (found.id, found.name, found.phone) == (person.id, "王小明", "13800000000")
        assert uow.persons.find_by_document("hmt_residence_permit", NUMBER) is None


def test_leaving_a_unit_of_work_without_commit_rolls_back(container):
    with container.uow() as uow:
        add_enrollment(uow)
    with container.uow() as uow:
        assert uow.persons.find_by_document("resident_id", NUMBER) is None


def test_the_database_refuses_a_second_live_assessment_for_a_period(container):
    with container.uow() as uow:
        _, enrollment = add_enrollment(uow)
        uow.assessments.add_many([assessment(enrollment)])
        uow.commit()
    with pytest.raises(Conflict) as refused:  # the unique index refused it; the repository says so in words
        with container.uow() as uow:
            uow.assessments.add_many([assessment(enrollment)])
    assert refused.value.code == "period_already_declared"
    with container.uow() as uow:  # special assessments may overlap regular ones
        uow.assessments.add_many([assessment(enrollment, kind="special")])
        uow.commit()


def test_voiding_a_choice_is_compare_and_set(container):
    with container.uow() as uow:
        _, enrollment = add_enrollment(uow)
        choice = uow.choices.add(ContributionChoice(enrollment_id=enrollment.id, effective_month=Month(2026, 11),
                                                    base_fen=398000, created_at=wall_now()))
        assert uow.choices.void(choice.id, wall_now()) is True
        assert uow.choices.void(choice.id, wall_now()) is False
        uow.commit()


def test_identification_sessions_expire_in_redis(redis_client):
    sessions = RedisSessions(redis_client, prefix="test-idsession:")
    token = sessions.create(42, ttl_seconds=1)
    assert sessions.get(token) == 42
    assert 0 < redis_client.ttl("test-idsession:" + token) <= 1
    time.sleep(1.2)
    assert sessions.get(token) is None


def test_migrations_run_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade_database(url)
    upgrade_database(url)  # a second run is a no-op
    engine = create_engine(url)
    names = set(inspect(engine).get_table_names())
    assert {"person", "enrollment", "contribution_choice", "assessment", "audit_event", "alembic_version"} <= names
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
