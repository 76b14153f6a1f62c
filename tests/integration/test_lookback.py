"""Looking back on PostgreSQL: races on certificates and voiding, refunded money, set-based reads."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, func, inspect, select, update

from app.adapters import tables as t
from app.adapters.clock import SHANGHAI
from app.domain.errors import Conflict
from app.migrate import upgrade_database
from app.services import certificates, declarations, enrollments, lookback, lookback_declarations, orders, settlement
from app.services.certificates import CertificateSettings
from tests.e2e.test_api_core_flow import ZHANG, ZHAO

SETTINGS = CertificateSettings(treasury_delay_working_days=3, verify_url="https://tax.example/verify")
IN_TREASURY = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)


def person_and_enrollment(c, row, insurance="pension"):
    with c.uow() as uow:
        person = uow.persons.find_by_document("resident_id", row["id_number"])
        enrollment = next(e for e in uow.enrollments.list_for_person(person.id) if e.insurance == insurance)
    return person.id, enrollment.id


def declare(c, row, periods, **choice):
    person_id, enrollment_id = person_and_enrollment(c, row)
    enrollments.choose_contribution(person_id, enrollment_id, c.uow(), c.policies, c.clock, **choice)
    result = declarations.declare_periods(person_id, enrollment_id, periods, c.uow(), c.policies, c.clock, c.notices)
    return person_id, result


def pay(c, person_ids, declared, payer=None):
    ids = [a["id"] for a in declared["assessments"]]
    order = orders.create_order(orders.NewOrder(person_ids, ids, "api", "fake.qr", declared["total_fen"],
                                                payer_person_id=payer), c.uow(), c.payments)
    incoming = c.providers["fake"].pay(order["order_no"])
    settlement.receive_notification("fake", incoming, c.uow(), c.payments)
    return order["order_no"]


@pytest.fixture
def zhang_paid(runner, container):
    """张伟: three months of pension posted on Monday 2026-11-23."""
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    person_id, declared = declare(container, ZHANG, ["2026-09", "2026-10", "2026-11"], base_fen=500000,
                                  effective_month="2026-09")
    pay(container, [person_id], declared, payer=person_id)
    return person_id, declared


def run_together(*calls):
    """Run calls at the same moment in threads; each result is a value or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as error:  # the outcome under test
            results[i] = error

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return results


def test_two_issue_requests_at_the_same_moment_make_one_certificate(container, zhang_paid, clock):
    person_id, _ = zhang_paid
    clock.set(IN_TREASURY)
    c = container

    def issue():
        return certificates.issue_certificate(person_id, "2026-09", "2026-11", c.uow(), c.clock, c.policies, SETTINGS)

    for _ in range(3):
        results = run_together(issue, issue, issue)
        issued = [r for r in results if isinstance(r, dict)]
        refused = [r for r in results if isinstance(r, Conflict)]
        assert len(issued) + len(refused) == 3, results
        assert all(r.code == "certificate_already_issued" for r in refused)
    with c.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.certificate)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(t.certificate_item)).scalar_one() == 3


def test_voiding_and_paying_at_the_same_moment_let_exactly_one_win(container, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    c = container
    for month in ("2026-10", "2026-11"):
        person_id, declared = declare(c, ZHANG, [month], base_fen=398000, effective_month=month)
        ids = [a["id"] for a in declared["assessments"]]
        results = run_together(
            lambda: lookback_declarations.void_declaration(person_id, declared["notice_number"], c.uow(), c.clock),
            lambda: orders.create_order(orders.NewOrder([person_id], ids, "api", "fake.qr", declared["total_fen"]),
                                        c.uow(), c.payments))
        won = [r for r in results if isinstance(r, dict)]
        assert len(won) == 1, results
        with c.engine.connect() as conn:
            state = conn.execute(select(t.assessment.c.state).where(t.assessment.c.id.in_(ids))).scalar_one()
            live_orders = conn.execute(select(func.count()).select_from(t.order_item).where(
                t.order_item.c.assessment_id.in_(ids), t.order_item.c.live)).scalar_one()
        assert (state, live_orders) in {("voided", 0), ("paying", 1)}


def test_refunded_money_is_shown_as_refunded_and_cannot_be_certified_or_reissued(container, zhang_paid, clock):
    person_id, declared = zhang_paid
    c = container
    clock.set(IN_TREASURY)
    [cert] = certificates.issue_certificate(person_id, "2026-09", "2026-11", c.uow(), c.clock, c.policies,
                                            SETTINGS)["certificates"]
    refunded_id = declared["assessments"][0]["id"]
    with c.engine.begin() as conn:  # a refund application (another feature) sends the first month back
        conn.execute(update(t.assessment).where(t.assessment.c.id == refunded_id).values(state="refunded"))
    ticket = cert["items"][0]["e_ticket_number"]
    verified = certificates.verify_ticket(ticket, c.uow(), c.policies)
    assert verified["genuine"] and verified["state_label"] == "已退费"
    with pytest.raises(Conflict) as err:
        certificates.reissue_certificate(person_id, cert["certificate_no"], c.uow(), c.clock, SETTINGS)
    assert err.value.code == "certificate_payment_refunded"
    statement = lookback.payment_statement(person_id, c.uow(), c.clock)
    assert [r["state_label"] for r in statement["rows"]].count("已退费") == 1
    record = lookback.contribution_record(person_id, c.uow(), c.clock, c.policies)
    assert sum(s["months"] for s in record["enrollments"]) == 2


def test_the_statement_includes_what_the_person_paid_for_a_relative(container, zhang_paid):
    zhang_id, _ = zhang_paid
    c = container
    zhao_id, zhao = declare(c, ZHAO, ["2026"], grade="1", effective_month="2026-01")
    pay(c, [zhang_id, zhao_id], zhao, payer=zhang_id)
    mine = lookback.payment_statement(zhang_id, c.uow(), c.clock)
    assert mine["count"] == 4 and mine["total_fen"] == 300000 + zhao["total_fen"]
    assert [r["insured"]["name"] for r in mine["rows"] if r["proxy"]] == ["赵*"]
    theirs = lookback.payment_statement(zhao_id, c.uow(), c.clock)
    assert theirs["count"] == 1 and theirs["rows"][0]["payer"]["name"] == "张*"


def test_history_reads_many_orders_in_a_fixed_number_of_queries(container, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    c = container
    person_id, enrollment_id = person_and_enrollment(c, ZHANG)
    enrollments.choose_contribution(person_id, enrollment_id, c.uow(), c.policies, c.clock, base_fen=398000,
                                    effective_month="2025-11")
    for month in ("2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04"):
        declared = declarations.declare_periods(person_id, enrollment_id, [month], c.uow(), c.policies, c.clock,
                                                c.notices)
        pay(c, [person_id], declared, payer=person_id)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(c.engine, "before_cursor_execute", listener)
    try:
        history = lookback.payment_history(person_id, c.uow(), c.clock)
    finally:
        event.remove(c.engine, "before_cursor_execute", listener)
    assert len(history["orders"]) == 6 and all(o["items"][0]["e_ticket_number"] for o in history["orders"])
    assert len(statements) <= 6  # orders, items, assessments, tickets, refunds, the person: not one per order


def test_the_certificate_tables_migrate_on_sqlite_for_the_zero_setup_run(tmp_path):
    url = f"sqlite:///{tmp_path / 'run.db'}"
    upgrade_database(url)
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        found = inspect(engine)
        assert {"certificate", "certificate_item"} <= set(found.get_table_names())
        assert "uq_certificate_item_original_payment" in {i["name"] for i in found.get_indexes("certificate_item")}
    finally:
        engine.dispose()


def test_history_of_a_person_without_payments_is_empty(container, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    person_id, _ = person_and_enrollment(container, ZHAO)
    history = lookback.payment_history(person_id, container.uow(), container.clock,
                                       end=IN_TREASURY.date() + timedelta(days=1))
    assert history["orders"] == [] and history["posted_total_fen"] == 0
