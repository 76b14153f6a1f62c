"""The yearly bulk declaration building its year apart and attaching it as a partition (PostgreSQL)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
from sqlalchemy import func, select, text

from app.adapters import tables as t
from app.adapters.bulk_sql import SqlBulkDeclarations
from app.domain.errors import Conflict, InvalidInput
from app.adapters.clock import SHANGHAI
from app.services import bulk_declaration, declarations, enrollments, orders, settlement
from payments.fake.provider import FakeProvider
from tests.integration.test_bulk_declaration import REGION, enroll, enrollment_ids, resident_rows, run
from tests.integration.test_orders import declared  # noqa: F401 (a fixture: 张伟's three 2026 assessments)

COMPARED = [c for c in t.assessment.c if c.name != "id"]  # ids come from one sequence, in whatever order
COMPARED_NAMES = [c.name for c in COMPARED]


@pytest.fixture
def providers():
    return {"fake": FakeProvider(code="fake")}


@pytest.fixture
def app(settings, database, redis_client, clock, providers):
    """The app, with no year partition left by an earlier test: each test starts from the default alone."""
    from app.factory import create_app
    from tests.conftest import reset_state

    methods = {**settings["CHANNEL_PAYMENT_METHODS"], "api": settings["CHANNEL_PAYMENT_METHODS"]["api"] + ["fake.qr"]}
    app = create_app(dict(settings, CHANNEL_PAYMENT_METHODS=methods), clock=clock, providers=providers)
    reset_state(app, redis_client)
    drop_year_partitions(app.extensions["sbf"].engine)
    yield app
    app.extensions["sbf"].engine.dispose()


def drop_year_partitions(engine) -> None:
    with engine.begin() as conn:
        for name, attached in conn.execute(text(
                "SELECT c.relname, EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = c.oid) FROM pg_class c "
                "WHERE c.relname ~ '^assessment_y[0-9]{4}$' AND c.relkind = 'r'")):
            if attached:
                conn.execute(text(f"ALTER TABLE assessment DETACH PARTITION {name}"))
            conn.execute(text(f"DROP TABLE {name}"))
        for name in conn.execute(text("SELECT conname FROM pg_constraint WHERE conname LIKE 'ck_assessment_default_%'"
                                      )).scalars():
            conn.execute(text(f"ALTER TABLE assessment_default DROP CONSTRAINT {name}"))


class RowByRow(SqlBulkDeclarations):
    builds_apart = False


class CrashingAt(SqlBulkDeclarations):
    """Dies in one step of the build, as a killed process would (its transaction is rolled back)."""

    def __init__(self, engine, step: str):
        super().__init__(engine)
        self.step, self.chunks = step, 0

    def fill_next_chunk(self, plan, stripe, after_id, size, into):
        self.chunks += 1
        made = super().fill_next_chunk(plan, stripe, after_id, size, into)
        if self.step == "fill" and self.chunks == 2:
            raise RuntimeError("killed")
        return made

    def _step(self, name: str, year: int) -> None:
        getattr(super(), name)(year)
        if self.step == name:  # done, but not its phase: the step's transaction is rolled back
            raise RuntimeError("killed")

    def index_year(self, year):
        self._step("index_year", year)

    def key_year(self, year):
        self._step("key_year", year)

    def attach_year(self, year):
        self._step("attach_year", year)


def rows(container) -> list[tuple]:
    with container.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(*COMPARED).order_by(t.assessment.c.enrollment_id))]


def partitions(container) -> dict[str, str]:
    with container.engine.connect() as conn:
        return dict(conn.execute(text("SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                                      "JOIN pg_class c ON c.oid = i.inhrelid "
                                      "WHERE i.inhparent = 'assessment'::regclass")).all())


def default_checks(container) -> list[str]:
    with container.engine.connect() as conn:
        return list(conn.execute(text("SELECT conname FROM pg_constraint WHERE conname LIKE 'ck_assessment_default_%'"))
                    .scalars())


def test_the_year_built_apart_holds_exactly_the_rows_the_row_by_row_way_makes(container):
    enroll(container, resident_rows(7))
    enroll(container, resident_rows(1, status="suspended", first=100))
    enroll(container, resident_rows(1, region="540000", first=200))

    apart = run(container)["results"][0]
    built = rows(container)
    assert apart["built_apart"] and (apart["created"], apart["declared"], apart["eligible"]) == (7, 7, 7)
    assert partitions(container) == {"assessment_default": "DEFAULT",
                                     "assessment_y2027": "FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')"}
    assert default_checks(container) == []

    drop_year_partitions(container.engine)
    with container.engine.begin() as conn:
        conn.execute(text("TRUNCATE bulk_progress"))
    by_row = run(container, stores=lambda: RowByRow(container.engine))["results"][0]
    assert not by_row["built_apart"] and by_row["created"] == 7
    assert rows(container) == built


@pytest.mark.parametrize("step", ["fill", "index_year", "key_year", "attach_year"])
def test_a_build_that_died_in_a_step_resumes_there_and_makes_each_row_once(container, step):
    enroll(container, resident_rows(7))
    with pytest.raises(RuntimeError):
        run(container, stores=lambda: CrashingAt(container.engine, step))
    assert "assessment_y2027" not in partitions(container)

    again = run(container)["results"][0]
    assert again["built_apart"] and (again["declared"], again["eligible"]) == (7, 7)
    assert len(rows(container)) == 7 and len(set(rows(container))) == 7
    assert "assessment_y2027" in partitions(container) and default_checks(container) == []


def test_a_fill_resumes_only_with_as_many_workers_as_it_began_with(container):
    enroll(container, resident_rows(9))
    with pytest.raises(RuntimeError):
        run(container, stores=lambda: CrashingAt(container.engine, "fill"), workers=2)

    with pytest.raises(InvalidInput) as refused:
        run(container, workers=3)
    assert refused.value.code == "bulk_workers_changed" and "（2）" in refused.value.message
    again = run(container, workers=2)["results"][0]
    assert (again["declared"], again["eligible"]) == (9, 9) and len(set(rows(container))) == 9


def test_a_job_that_stopped_while_checking_does_not_take_over_a_year_another_job_builds(container):
    enroll(container, resident_rows(3))
    c = container
    plan = bulk_declaration.plan_year(REGION, 2027, "medical", c.policies, c.clock)
    stopped = replace(plan, job_key="declare_year:520100:2027:medical")
    with SqlBulkDeclarations(c.engine) as store:  # the other job got as far as its CHECK, then died
        store.progress(stopped.job_key, c.clock.now())
        store.save_phase(stopped.job_key, bulk_declaration.CHECKING, c.clock.now())
        store.commit()
    with pytest.raises(RuntimeError):
        run(c, stores=lambda: CrashingAt(c.engine, "key_year"))

    with pytest.raises(Conflict) as refused:
        bulk_declaration._begin_apart(stopped, SqlBulkDeclarations(c.engine), c.clock, [bulk_declaration.Stripe()])
    assert refused.value.code == "year_in_bulk_declaration"
    assert run(c)["results"][0]["declared"] == 3


def test_a_second_run_finds_the_attached_year_and_creates_nothing(container):
    enroll(container, resident_rows(5))
    run(container)
    again = run(container)["results"][0]
    assert (again["created"], again["declared"], again["built_apart"]) == (0, 5, False)
    assert len(rows(container)) == 5


def test_a_person_declaring_the_year_while_it_is_built_is_told_to_come_back_later(container):
    enroll(container, resident_rows(3))
    c = container
    [eid, *_] = enrollment_ids(c, "medical")
    with c.uow() as uow:
        person_id = uow.enrollments.get(eid).person_id
    with pytest.raises(RuntimeError):
        run(c, stores=lambda: CrashingAt(c.engine, "index_year"))

    with pytest.raises(Conflict) as refused:
        declarations.declare_periods(person_id, eid, ["2027"], c.uow(), c.policies, c.clock, c.notices)
    assert (refused.value.code, refused.value.message, refused.value.http_status) == (
        "year_in_bulk_declaration", "该年度正在集中申报，请稍后再试", 409)
    # another job of the year (another region, say) waits for this one too
    other = replace(bulk_declaration.plan_year(REGION, 2027, "medical", c.policies, c.clock),
                    job_key="declare_year:520100:2027:medical")
    with pytest.raises(Conflict) as other_job:
        bulk_declaration._begin_apart(other, SqlBulkDeclarations(c.engine), c.clock, [bulk_declaration.Stripe()])
    assert other_job.value.code == "year_in_bulk_declaration"

    assert run(c)["results"][0]["built_apart"]
    with pytest.raises(Conflict) as declared_already:
        declarations.declare_periods(person_id, eid, ["2027"], c.uow(), c.policies, c.clock, c.notices)
    assert declared_already.value.code == "period_already_declared"


def test_a_year_that_has_assessments_already_is_declared_row_by_row_and_says_so(container, runner):
    enroll(container, resident_rows(3))
    c = container
    [eid, *_] = enrollment_ids(c, "medical")
    with c.uow() as uow:
        person_id = uow.enrollments.get(eid).person_id
    declarations.declare_periods(person_id, eid, ["2027"], c.uow(), c.policies, c.clock, c.notices)

    result = runner.invoke(args=["bulk", "declare-year", "--region", REGION, "--year", "2027",
                                 "--insurance", "medical"])

    assert result.exit_code == 0, result.output
    assert "created 2, declared 3 of 3 eligible" in result.output
    assert "row by row: the year already had assessments before its bulk run" in result.output
    assert partitions(c) == {"assessment_default": "DEFAULT"} and default_checks(c) == []


def test_orders_and_payments_work_on_rows_of_both_partitions(container, declared, providers):  # noqa: F811
    person_id, ids_2026 = declared
    enroll(container, resident_rows(1))
    run(container)
    c = container
    with c.engine.connect() as conn:
        bulk = conn.execute(select(t.assessment.c.id, t.assessment.c.person_id, t.assessment.c.amount_fen)
                            .where(t.assessment.c.period_start == date(2027, 1, 1)).order_by(t.assessment.c.id)).first()
        where = dict(conn.execute(text("SELECT id, tableoid::regclass::text FROM assessment")).all())
    assert {where[i] for i in ids_2026} == {"assessment_default"} and where[bulk.id] == "assessment_y2027"

    for person, ids, amount in ((person_id, ids_2026, 300000), (bulk.person_id, [bulk.id], bulk.amount_fen)):
        order = orders.create_order(orders.NewOrder(person_ids=[person], assessment_ids=ids, channel="api",
                                                    method="fake.qr", confirmed_amount_fen=amount),
                                    c.uow(), c.payments)
        ack = settlement.receive_notification("fake", providers["fake"].pay(order["order_no"]), c.uow(), c.payments)
        assert ack.status == 200
        assert orders.show_order(order["order_no"], [person], c.uow())["state"] == "posted"
    with c.engine.connect() as conn:
        paid = conn.execute(select(t.payment.c.assessment_id, t.payment.c.assessment_period_start)).all()
        items = conn.execute(select(func.count()).select_from(t.order_item)).scalar_one()
    assert {p.assessment_id for p in paid} == {*ids_2026, bulk.id} and items == 4
    assert {p.assessment_period_start.year for p in paid} == {2026, 2027}


def test_pension_built_apart_is_priced_by_the_grade_in_force_as_row_by_row(container, clock):
    enroll(container, resident_rows(4, insurance="pension"))
    c = container
    ids = enrollment_ids(c, "pension")
    with c.uow() as uow:
        persons = [uow.enrollments.get(i).person_id for i in ids]
    for person, enrollment, grade in ((persons[0], ids[0], "1"), (persons[1], ids[1], "5")):
        enrollments.choose_contribution(person, enrollment, c.uow(), c.policies, c.clock, grade=grade,
                                        effective_month="2027-01")
    clock.set(datetime(2027, 1, 5, 9, 0, tzinfo=SHANGHAI))  # the pension year opens in January

    [apart] = run(c, insurance="pension", chunk_size=1)["results"]
    built = rows(c)
    drop_year_partitions(c.engine)
    with c.engine.begin() as conn:
        conn.execute(text("TRUNCATE bulk_progress"))
    [by_row] = run(c, insurance="pension", chunk_size=1, stores=lambda: RowByRow(c.engine))["results"]

    assert apart["built_apart"] and not by_row["built_apart"]
    assert (apart["created"], apart["eligible"], apart["without_choice"]) == (2, 4, 2) == (
        by_row["created"], by_row["eligible"], by_row["without_choice"])
    assert rows(c) == built and {r[COMPARED_NAMES.index("grade_code")] for r in built} == {"1", "5"}
