"""The yearly bulk declaration of residents, set-based on PostgreSQL (and on SQLite, the zero-setup run)."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from app.adapters import tables as t
from app.adapters.bulk_sql import SqlBulkDeclarations
from app.adapters.clock import SHANGHAI
from app.domain.documents import resident_id_check_char
from app.domain.errors import InvalidInput
from app.migrate import upgrade_database
from app.services import bulk_declaration, bureau, declarations, enrollments

REGION = "520000"


def resident_rows(n: int, insurance: str = "medical", region: str = REGION, category: str = "resident",
                  status: str = "active", first: int = 0) -> list[dict]:
    """Bureau rows for n fictional residents (valid check digits, numbers of nobody)."""
    rows = []
    for i in range(first, first + n):
        body = f"520102{date.fromordinal(date(1970, 1, 1).toordinal() + i):%Y%m%d}{i % 1000:03d}"
        number = body + resident_id_check_char(body)
        rows.append({"name": f"居民{i}", "id_type": "resident_id", "id_number": number, "insurance": insurance,
                     "region": region, "category": category, "insured_number": f"B{region}{insurance[0]}{i:06d}",
                     "start_month": "2020-01", "status": status})
    return rows


def enroll(container, rows) -> None:
    report = bureau.import_enrollments(rows, container.uow(), container.clock)
    assert not report["rejected"], report["rejected"]


def enrollment_ids(container, insurance: str, region: str = REGION) -> list[int]:
    with container.engine.connect() as conn:
        return list(conn.execute(select(t.enrollment.c.id).where(t.enrollment.c.insurance == insurance,
                                                                 t.enrollment.c.region == region)
                                 .order_by(t.enrollment.c.id)).scalars())


def run(container, year=2027, insurance="medical", chunk_size=3, stores=None, **kwargs):
    stores = stores or (lambda: SqlBulkDeclarations(container.engine))
    return bulk_declaration.declare_resident_year(REGION, year, stores, container.policies, container.clock,
                                                  insurance=insurance, chunk_size=chunk_size, **kwargs)


def assessments(container):
    with container.engine.connect() as conn:
        return conn.execute(select(t.assessment).order_by(t.assessment.c.enrollment_id)).all()


def test_every_active_resident_of_the_region_gets_the_year_at_the_fixed_amount(container):
    enroll(container, resident_rows(7))
    enroll(container, resident_rows(1, status="suspended", first=100))
    enroll(container, resident_rows(1, region="540000", first=200))
    enroll(container, resident_rows(1, category="flexible", insurance="pension", first=300))
    wanted = enrollment_ids(container, "medical")[:7]

    report = run(container)

    [result] = report["results"]
    assert (result["created"], result["eligible"], result["declared"], result["without_choice"]) == (7, 7, 7, 0)
    rows = assessments(container)
    assert [r.enrollment_id for r in rows] == wanted
    first = rows[0]
    assert (first.period_start, first.period_end, first.kind, first.state) == (
        date(2027, 1, 1), date(2027, 12, 31), "regular", "declared_unpaid")
    assert {r.amount_fen for r in rows} == {42000} and {r.subsidy_fen for r in rows} == {70000}
    assert first.notice_number == f"{REGION}20261123{first.enrollment_id:012d}"
    assert len({r.notice_number for r in rows}) == 7


def test_the_bulk_amount_equals_what_one_person_would_declare(container):
    enroll(container, resident_rows(2))
    run(container, chunk_size=1)
    by_hand = bulk_declaration.plan_year(REGION, 2027, "medical", container.policies, container.clock)
    assert {r.amount_fen for r in assessments(container)} == {by_hand.fixed.amount_fen}
    assert container.policies.get(REGION, 2027, "medical", "resident").fixed_amount_fen == by_hand.fixed.amount_fen


def test_running_twice_creates_nothing_new(container):
    enroll(container, resident_rows(5))
    run(container)
    again = run(container)
    assert again["results"][0]["created"] == 0 and again["results"][0]["declared"] == 5
    assert len(assessments(container)) == 5


def test_residents_enrolled_after_a_finished_run_are_picked_up_by_the_next(container):
    enroll(container, resident_rows(3))
    run(container)
    enroll(container, resident_rows(2, first=50))
    again = run(container)
    assert again["results"][0]["created"] == 2 and len(assessments(container)) == 5


def test_a_person_who_declared_the_year_already_is_left_as_is(container):
    enroll(container, resident_rows(3))
    c = container
    [eid, *_] = enrollment_ids(c, "medical")
    with c.uow() as uow:
        person_id = uow.enrollments.get(eid).person_id
    own = declarations.declare_periods(person_id, eid, ["2027"], c.uow(), c.policies, c.clock, c.notices)

    report = run(c)

    assert report["results"][0]["created"] == 2
    mine = [r for r in assessments(c) if r.enrollment_id == eid]
    assert [r.notice_number for r in mine] == [own["notice_number"]]


def test_a_voided_declaration_is_declared_again(container):
    enroll(container, resident_rows(2))
    run(container)
    with container.engine.begin() as conn:
        conn.execute(t.assessment.update().where(t.assessment.c.id == assessments(container)[0].id)
                     .values(state="voided"))
    again = run(container)
    assert again["results"][0]["created"] == 1 and len(assessments(container)) == 3


def test_pension_is_declared_only_where_a_grade_is_chosen_for_the_year_at_that_grade(container, clock):
    enroll(container, resident_rows(4, insurance="pension"))
    c = container
    ids = enrollment_ids(c, "pension")
    with c.uow() as uow:
        persons = [uow.enrollments.get(i).person_id for i in ids]
    enrollments.choose_contribution(persons[0], ids[0], c.uow(), c.policies, c.clock, grade="1",
                                    effective_month="2027-01")
    enrollments.choose_contribution(persons[1], ids[1], c.uow(), c.policies, c.clock, grade="5",
                                    effective_month="2027-01")
    voided = enrollments.choose_contribution(persons[2], ids[2], c.uow(), c.policies, c.clock, grade="3",
                                             effective_month="2027-01")
    enrollments.void_choice(persons[2], ids[2], voided["id"], c.uow(), c.clock)
    clock.set(datetime(2027, 1, 5, 9, 0, tzinfo=SHANGHAI))  # the pension year opens in January

    [result] = run(c, insurance="pension")["results"]

    assert (result["created"], result["eligible"], result["without_choice"]) == (2, 4, 2)
    rows = assessments(c)
    policy = c.policies.get(REGION, 2027, "pension", "resident")
    assert [(r.enrollment_id, r.grade_code, r.amount_fen) for r in rows] == [
        (ids[0], "1", policy.grade("1").amount_fen), (ids[1], "5", policy.grade("5").amount_fen)]
    assert all(r.choice_id is not None and r.kind == "regular" for r in rows)


def test_before_the_collection_window_opens_nothing_is_written(container):
    enroll(container, resident_rows(2, insurance="pension"))
    with pytest.raises(InvalidInput) as refused:
        run(container, insurance="pension")  # the clock says 2026-11-23; the 2027 pension year opens in January
    assert refused.value.code == "collection_not_open"
    assert assessments(container) == []


def test_a_region_that_is_not_six_digits_is_refused(container):
    with pytest.raises(InvalidInput) as refused:
        bulk_declaration.declare_resident_year("52", 2027, lambda: SqlBulkDeclarations(container.engine),
                                               container.policies, container.clock)
    assert refused.value.code == "region_format" and "6位" in refused.value.message


class CrashingStore(SqlBulkDeclarations):
    """Dies in the middle of its third chunk, as a killed process would."""

    def __init__(self, engine, crash_at: int):
        super().__init__(engine)
        self.chunks, self.crash_at = 0, crash_at

    def insert_assessments(self, plan, stripe, after_id, upto_id):
        self.chunks += 1
        made = super().insert_assessments(plan, stripe, after_id, upto_id)
        if self.chunks == self.crash_at:
            raise RuntimeError("killed")
        return made


def test_a_crashed_run_resumes_after_the_last_finished_chunk(container):
    enroll(container, resident_rows(10))
    ids = enrollment_ids(container, "medical")
    with pytest.raises(RuntimeError):
        run(container, chunk_size=3, stores=lambda: CrashingStore(container.engine, crash_at=3))
    assert len(assessments(container)) == 6  # two chunks committed, the third rolled back

    resumed = run(container, chunk_size=3)

    [result] = resumed["results"]
    assert result["resumed_from_enrollment_id"] == ids[5]
    assert result["created"] == 4 and len(assessments(container)) == 10
    with container.engine.connect() as conn:
        progress = conn.execute(select(t.bulk_progress)).one()
    assert progress.finished_at is not None and progress.created_count == 10 and progress.last_enrollment_id == ids[-1]


def test_two_workers_deal_the_residents_into_stripes_and_each_resumes_on_its_own(container):
    enroll(container, resident_rows(11))
    with pytest.raises(RuntimeError):  # both stripes die in their second chunk
        run(container, chunk_size=2, workers=2, stores=lambda: CrashingStore(container.engine, crash_at=2))
    assert len(assessments(container)) == 4

    [result] = run(container, chunk_size=2, workers=2)["results"]

    assert (result["created"], result["declared"], result["workers"]) == (7, 11, 2)
    rows = assessments(container)
    assert len(rows) == len({r.enrollment_id for r in rows}) == 11
    with container.engine.connect() as conn:
        progress = conn.execute(select(t.bulk_progress.c.job_key, t.bulk_progress.c.finished_at)
                                .order_by(t.bulk_progress.c.job_key)).all()
    assert [p.job_key for p in progress] == ["declare_year:520000:2027:medical/1of2",
                                             "declare_year:520000:2027:medical/2of2"]
    assert all(p.finished_at is not None for p in progress)


def test_the_command_shows_progress_and_a_summary(container, runner):
    enroll(container, resident_rows(4))
    result = runner.invoke(args=["bulk", "declare-year", "--region", REGION, "--year", "2027",
                                 "--insurance", "medical", "--chunk-size", "2"])
    assert result.exit_code == 0, result.output
    assert "created 4, declared 4 of 4 eligible" in result.output
    assert "medical" in result.output  # the progress bar's label
    with container.engine.connect() as conn:
        audit = conn.execute(select(t.audit_event).where(t.audit_event.c.kind == "declaration.bulk_year")).one()
    assert audit.data["created"] == 4


def test_the_command_refuses_a_closed_window_in_chinese(container, runner):
    result = runner.invoke(args=["bulk", "declare-year", "--region", REGION, "--year", "2027",
                                 "--insurance", "pension"])
    assert result.exit_code != 0
    assert "collection_not_open" in result.output and "缴费期尚未开始" in result.output


def test_without_insurance_every_resident_insurance_open_today_is_declared(container):
    enroll(container, resident_rows(2))
    enroll(container, resident_rows(2, insurance="pension", first=10))
    report = run(container, insurance=None)  # November 2026: medical 2027 is open, pension 2027 opens in January
    assert [(r["insurance"], r["created"]) for r in report["results"]] == [("medical", 2)]
    assert [(s["insurance"], s["code"]) for s in report["skipped"]] == [("pension", "collection_not_open")]
    assert {r.insurance for r in assessments(container)} == {"medical"}


def test_without_insurance_and_no_window_open_nothing_is_written(container, clock):
    enroll(container, resident_rows(2))
    clock.set(datetime(2026, 8, 1, 9, 0, tzinfo=SHANGHAI))  # medical 2027 opens in September, pension in January
    with pytest.raises(InvalidInput) as refused:
        run(container, year=2027, insurance=None, chunk_size=5)
    assert refused.value.code == "collection_not_open"
    assert assessments(container) == []


@pytest.fixture
def sqlite_app(settings, tmp_path, clock):
    from app.factory import create_app

    url = f"sqlite:///{tmp_path / 'bulk.db'}"
    upgrade_database(url)
    app = create_app(dict(settings, DATABASE_URL=url, REDIS_URL=""), clock=clock, providers={})
    yield app
    app.extensions["sbf"].engine.dispose()


def test_the_zero_setup_run_on_sqlite_declares_once_and_resumes_too(sqlite_app):
    c = sqlite_app.extensions["sbf"]
    enroll(c, resident_rows(6))
    with pytest.raises(RuntimeError):
        run(c, chunk_size=2, stores=lambda: CrashingStore(c.engine, crash_at=2))
    assert len(assessments(c)) == 2
    runner = sqlite_app.test_cli_runner()
    result = runner.invoke(args=["bulk", "declare-year", "--region", REGION, "--year", "2027", "--chunk-size", "2"])
    assert result.exit_code == 0, result.output
    assert "created 4, declared 6 of 6 eligible" in result.output
    again = runner.invoke(args=["bulk", "declare-year", "--region", REGION, "--year", "2027"])
    assert "created 0, declared 6 of 6 eligible" in again.output
    rows = assessments(c)
    assert len(rows) == 6 and {r.amount_fen for r in rows} == {42000}
    assert rows[0].period_start == date(2027, 1, 1)
    assert rows[0].notice_number == f"{REGION}20261123{rows[0].enrollment_id:012d}"
    with c.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.payment_order)).scalar_one() == 0
