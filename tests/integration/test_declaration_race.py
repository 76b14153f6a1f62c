"""Two declarations (or two contribution choices) at the same moment: the database decides, the loser hears 409."""
from __future__ import annotations

import threading

from sqlalchemy import text

from app.domain.errors import Conflict
from app.services import declarations, enrollments
from tests.e2e.test_api_core_flow import ZHANG


def _blocked_on_a_lock(engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND datname = current_database()")).scalar_one() > 0


def test_a_declaration_racing_another_of_the_same_period_answers_409_not_500(runner, container):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    c = container
    with c.uow() as uow:
        person = uow.persons.find_by_document("resident_id", ZHANG["id_number"])
        enrollment = next(e for e in uow.enrollments.list_for_person(person.id) if e.insurance == "pension")
    enrollments.choose_contribution(person.id, enrollment.id, c.uow(), c.policies, c.clock, base_fen=398000,
                                    effective_month="2026-11")
    first = c.uow()
    with first:  # the first request has inserted its assessment and not committed yet
        from app.domain.declaration import plan_declaration

        planned = plan_declaration(enrollment, ["2026-11"], c.policies, first.choices.list_for_enrollment(enrollment.id),
                                   set(), c.clock.today(), "N-FIRST")
        for a in planned:
            a.declared_at = c.clock.now()
        first.assessments.add_many(planned)
        outcome = {}

        def second():
            try:
                outcome["value"] = declarations.declare_periods(person.id, enrollment.id, ["2026-11"], c.uow(),
                                                                c.policies, c.clock, c.notices)
            except Exception as error:  # the outcome under test
                outcome["value"] = error

        racer = threading.Thread(target=second)
        racer.start()
        for _ in range(500):  # the second request passed the domain check and waits on the unique index
            if _blocked_on_a_lock(c.engine) or not racer.is_alive():
                break
            threading.Event().wait(0.01)
        first.commit()
    racer.join()
    assert isinstance(outcome["value"], Conflict), outcome
    assert outcome["value"].code == "period_already_declared" and outcome["value"].http_status == 409


def test_a_contribution_choice_racing_another_of_the_same_month_answers_409_not_500(runner, container):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    c = container
    with c.uow() as uow:
        person = uow.persons.find_by_document("resident_id", ZHANG["id_number"])
        enrollment = next(e for e in uow.enrollments.list_for_person(person.id) if e.insurance == "pension")
    first = c.uow()
    with first:  # the first request has inserted its choice and not committed yet
        from app.domain.model import ContributionChoice
        from app.domain.periods import Month

        first.choices.add(ContributionChoice(enrollment_id=enrollment.id, effective_month=Month(2026, 11),
                                             base_fen=398000, created_at=c.clock.now()))
        outcome = {}

        def second():
            try:
                outcome["value"] = enrollments.choose_contribution(person.id, enrollment.id, c.uow(), c.policies,
                                                                   c.clock, base_fen=500000, effective_month="2026-11")
            except Exception as error:  # the outcome under test
                outcome["value"] = error

        racer = threading.Thread(target=second)
        racer.start()
        for _ in range(500):  # the second request passed the domain check and waits on the unique index
            if _blocked_on_a_lock(c.engine) or not racer.is_alive():
                break
            threading.Event().wait(0.01)
        first.commit()
    racer.join()
    assert isinstance(outcome["value"], Conflict), outcome
    assert (outcome["value"].code, outcome["value"].field, outcome["value"].http_status) == \
        ("choice_exists", "effective_month", 409)
    with c.uow() as uow:
        assert [x.base_fen for x in uow.choices.list_for_enrollment(enrollment.id)] == [398000]
