"""The services over in-memory fakes: rules, masking, and nothing written on failure."""
from __future__ import annotations

from datetime import datetime

import pytest

from app.adapters.clock import SHANGHAI, FixedClock
from app.adapters.policy_files import load_policy_book
from app.domain.documents import resident_id_check_char
from app.domain.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from app.services import bureau, declarations, enrollments, identification
from config.settings import ROOT
from tests.fakes import CountingNotices, FakeSessions, FakeUnitOfWork

BOOK = load_policy_book(ROOT / "config" / "policies")
NUMBER = "37020219850315001" + resident_id_check_char("37020219850315001")


@pytest.fixture
def uow():
    return FakeUnitOfWork()


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI))


@pytest.fixture
def person(uow, clock):
    report = bureau.import_enrollments([{
        "name": "张伟", "id_type": "resident_id", "id_number": NUMBER, "insurance": "pension",
        "region": "370200", "category": "flexible", "insured_number": "Q1", "start_month": "2019-03"}], uow, clock)
    assert report["created"] == 1
    with uow:
        return uow.persons.find_by_document("resident_id", NUMBER)


def test_identify_returns_a_token_and_masked_data(uow, person, clock):
    sessions = FakeSessions()
    found = identification.identify_person("张 伟", "resident_id", NUMBER.lower(), uow, sessions, 60, clock)
    assert found["person"]["name"] == "张*" and "*" in found["person"]["id_number"]
    assert sessions.get(found["token"]) == person.id


def test_identify_with_wrong_name_says_not_matched(uow, person, clock):
    with pytest.raises(NotFound) as err:
        identification.identify_person("李四", "resident_id", NUMBER, uow, FakeSessions(), 60, clock)
    assert err.value.code == "identity_not_matched"


def test_missing_session_is_unauthenticated(uow):
    with pytest.raises(Unauthenticated):
        identification.person_for_session("nope", uow, FakeSessions())


def test_choosing_again_for_the_same_month_needs_voiding_first(uow, clock, person):
    (e,) = enrollments.list_enrollments(person.id, uow)
    first = enrollments.choose_contribution(person.id, e["id"], uow, BOOK, clock, base_fen=398000)
    with pytest.raises(Conflict) as err:
        enrollments.choose_contribution(person.id, e["id"], uow, BOOK, clock, base_fen=500000)
    assert err.value.code == "choice_exists"
    enrollments.void_choice(person.id, e["id"], first["id"], uow, clock)
    again = enrollments.choose_contribution(person.id, e["id"], uow, BOOK, clock, base_fen=500000)
    assert again["base_fen"] == 500000 and again["amount_per_period_fen"] == 100000


def test_a_declared_base_cannot_be_voided(uow, clock, person):
    (e,) = enrollments.list_enrollments(person.id, uow)
    choice = enrollments.choose_contribution(person.id, e["id"], uow, BOOK, clock, base_fen=398000)
    declarations.declare_periods(person.id, e["id"], ["2026-11"], uow, BOOK, clock, CountingNotices())
    with pytest.raises(Conflict) as err:
        enrollments.void_choice(person.id, e["id"], choice["id"], uow, clock)
    assert err.value.code == "choice_in_use"


def test_a_refused_declaration_writes_nothing(uow, clock, person):
    (e,) = enrollments.list_enrollments(person.id, uow)
    enrollments.choose_contribution(person.id, e["id"], uow, BOOK, clock, base_fen=398000)
    commits = uow.commits
    with pytest.raises(InvalidInput):
        declarations.declare_periods(person.id, e["id"], ["2026-11", "2027-01"], uow, BOOK, clock, CountingNotices())
    assert uow.commits == commits
    assert declarations.list_assessments(person.id, uow) == []


def test_preview_shows_month_and_year_amounts(uow, clock, person):
    (e,) = enrollments.list_enrollments(person.id, uow)
    options = enrollments.contribution_options(person.id, e["id"], uow, BOOK, clock, base_fen=398000)
    assert options["preview"]["amount_per_period_fen"] == 79600
    assert options["preview"]["amount_per_year_fen"] == 79600 * 12
    with pytest.raises(InvalidInput):
        enrollments.contribution_options(person.id, e["id"], uow, BOOK, clock, base_fen=100)


def test_status_splits_paid_unpaid_and_undeclared(uow, clock, person):
    (e,) = enrollments.list_enrollments(person.id, uow)
    enrollments.choose_contribution(person.id, e["id"], uow, BOOK, clock, base_fen=398000, effective_month="2026-01")
    declarations.declare_periods(person.id, e["id"], ["2026-10"], uow, BOOK, clock, CountingNotices())
    status = declarations.payment_status(person.id, uow, BOOK, clock, enrollment_id=e["id"], start="2026-09")
    assert [r["period"] for r in status["undeclared_unpaid"]] == ["2026-09", "2026-11"]
    assert [r["period"] for r in status["declared_unpaid"]] == ["2026-10"]


def test_bureau_import_is_idempotent_and_reports_rejections(uow, clock, person):
    rows = [
        {"name": "张伟", "id_type": "resident_id", "id_number": NUMBER, "insurance": "pension", "region": "370200",
         "category": "flexible", "insured_number": "Q1", "start_month": "2019-03"},
        {"name": "王五", "id_type": "resident_id", "id_number": NUMBER[:-1] + "0", "insurance": "pension",
         "region": "370200", "category": "flexible", "insured_number": "Q2", "start_month": "2019-03"},
        {"name": "张伟", "id_type": "resident_id", "id_number": NUMBER, "insurance": "dental", "region": "370200",
         "category": "flexible", "insured_number": "Q3", "start_month": "2019-03"},
    ]
    report = bureau.import_enrollments(rows, uow, clock)
    assert (report["created"], report["unchanged"]) == (0, 1)
    assert [(r["row"], r["code"]) for r in report["rejected"]] == [(2, "id_check_digit_invalid"), (3, "insurance_unknown")]


def test_special_assessments_import_once(uow, clock, person):
    row = {"insured_number": "Q1", "period_start": "2024-01", "period_end": "2024-06", "amount_fen": "477600",
           "notice_number": "HR2026001", "reason": "补缴核定"}
    assert bureau.import_special_assessments([row], uow, clock)["created"] == 1
    assert bureau.import_special_assessments([row], uow, clock)["unchanged"] == 1
    (item,) = declarations.list_assessments(person.id, uow)
    assert (item["kind_label"], item["amount_fen"], item["period"]) == ("特殊缴费", 477600, "2024-01至2024-06")
