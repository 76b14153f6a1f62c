"""Two declarations (or two contribution choices) at the same moment: the database decides, the loser hears 409."""
from __future__ import annotations

from app.domain.errors import Conflict
from app.domain.model import ContributionChoice
from app.domain.periods import Month
from app.services import declarations, enrollments
from tests.e2e.test_api_core_flow import ZHANG
from tests.races import race


def _zhang_pension(runner, c):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with c.uow() as uow:
        person = uow.persons.find_by_document("resident_id", ZHANG["id_number"])
        return person, next(e for e in uow.enrollments.list_for_person(person.id) if e.insurance == "pension")


def test_a_declaration_racing_another_of_the_same_period_answers_409_not_500(runner, container):
    c = container
    person, enrollment = _zhang_pension(runner, c)
    enrollments.choose_contribution(person.id, enrollment.id, c.uow(), c.policies, c.clock, base_fen=398000,
                                    effective_month="2026-11")

    def first(uow):  # the first request has inserted its assessment and not committed yet
        from app.domain.declaration import plan_declaration

        planned = plan_declaration(enrollment, ["2026-11"], c.policies, uow.choices.list_for_enrollment(enrollment.id),
                                   set(), c.clock.today(), "N-FIRST")
        for a in planned:
            a.declared_at = c.clock.now()
        uow.assessments.add_many(planned)

    lost = race(c, first, lambda: declarations.declare_periods(person.id, enrollment.id, ["2026-11"], c.uow(),
                                                               c.policies, c.clock, c.notices))
    assert isinstance(lost, Conflict), lost
    assert lost.code == "period_already_declared" and lost.http_status == 409


def test_a_contribution_choice_racing_another_of_the_same_month_answers_409_not_500(runner, container):
    c = container
    person, enrollment = _zhang_pension(runner, c)

    def first(uow):  # the first request has inserted its choice and not committed yet
        uow.choices.add(ContributionChoice(enrollment_id=enrollment.id, effective_month=Month(2026, 11),
                                           base_fen=398000, created_at=c.clock.now()))

    lost = race(c, first, lambda: enrollments.choose_contribution(person.id, enrollment.id, c.uow(), c.policies,
                                                                  c.clock, base_fen=500000, effective_month="2026-11"))
    assert isinstance(lost, Conflict), lost
    assert (lost.code, lost.field, lost.http_status) == ("choice_exists", "effective_month", 409)
    with c.uow() as uow:
        assert [x.base_fen for x in uow.choices.list_for_enrollment(enrollment.id)] == [398000]
