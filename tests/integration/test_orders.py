"""Orders and settlement on PostgreSQL with the fake provider: our rules, not a provider's protocol."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.adapters import tables as t
from app.domain.errors import Conflict
from app.services import declarations, enrollments, orders, settlement
from payments.fake.provider import FakeProvider
from tests.e2e.test_api_core_flow import ZHANG

METHODS = {"api": ["fake.qr", "fake2.qr"], "wechat_oa": ["fake2.qr"]}


@pytest.fixture
def providers():
    return {"fake": FakeProvider(code="fake"), "fake2": FakeProvider(code="fake2", secret="other")}


@pytest.fixture
def app(settings, database, redis_client, clock, providers):
    from app.factory import create_app
    from tests.conftest import reset_state

    settings = dict(settings, CHANNEL_PAYMENT_METHODS=METHODS)
    app = create_app(settings, clock=clock, providers=providers)
    reset_state(app, redis_client)
    yield app
    app.extensions["sbf"].engine.dispose()


@pytest.fixture
def declared(runner, container):
    """张伟 declares three months of pension at a base of 5000 元: three assessments of 1000 元."""
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    c = container
    with c.uow() as uow:
        person = uow.persons.find_by_document("resident_id", ZHANG["id_number"])
        enrollment = next(e for e in uow.enrollments.list_for_person(person.id) if e.insurance == "pension")
    enrollments.choose_contribution(person.id, enrollment.id, c.uow(), c.policies, c.clock, base_fen=500000,
                                    effective_month="2026-09")
    result = declarations.declare_periods(person.id, enrollment.id, ["2026-09", "2026-10", "2026-11"], c.uow(),
                                          c.policies, c.clock, c.notices)
    return person.id, [a["id"] for a in result["assessments"]]


def create(container, person_id, ids, method="fake.qr", amount=300000, channel="api"):
    c = container
    return orders.create_order([person_id], ids, channel, method, amount, c.uow(), c.providers, c.clock, c.numbers,
                               c.payment_settings)


def notify(container, provider_code, incoming):
    c = container
    return settlement.receive_notification(provider_code, incoming, c.uow(), c.providers, c.clock, c.numbers)


def count(container, table, *where):
    with container.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def states(container, ids):
    with container.engine.connect() as conn:
        rows = conn.execute(select(t.assessment.c.id, t.assessment.c.state).where(t.assessment.c.id.in_(ids)))
        return {r.state for r in rows}


def test_the_payer_confirms_the_amount_before_paying(container, declared):
    person_id, ids = declared
    with pytest.raises(Conflict) as err:
        create(container, person_id, ids, amount=299999)
    assert err.value.code == "amount_changed" and "3000.00" in err.value.message
    assert states(container, ids) == {"declared_unpaid"} and count(container, t.payment_order) == 0


def test_a_channel_offers_only_its_methods(container, declared):
    person_id, ids = declared
    with pytest.raises(Exception) as err:
        create(container, person_id, ids, method="fake.qr", channel="wechat_oa")
    assert err.value.code == "method_not_allowed"


def test_notification_replayed_fifteen_times_posts_once(container, declared, providers):
    person_id, ids = declared
    order = create(container, person_id, ids)
    assert order["state"] == "paying" and states(container, ids) == {"paying"}
    incoming = providers["fake"].pay(order["order_no"])
    acks = [notify(container, "fake", incoming) for _ in range(15)]
    assert {a.status for a in acks} == {200}
    assert states(container, ids) == {"paid"}
    assert count(container, t.payment) == 3
    shown = orders.show_order(order["order_no"], [person_id], container.uow())
    assert shown["state"] == "posted" and all(i["e_ticket_number"] for i in shown["items"])
    assert count(container, t.notification_log, t.notification_log.c.outcome == "duplicate") == 14


def test_forged_and_mismatched_notifications_change_nothing_and_are_logged(container, declared, providers):
    person_id, ids = declared
    order = create(container, person_id, ids)
    fake = providers["fake"]
    fake.pay(order["order_no"])
    forged = fake.notification(order["order_no"], 300000, secret=b"someone-else")
    one_fen_off = fake.notification(order["order_no"], 299999)
    unknown = fake.notification("20261123000000unknown", 300000)
    for incoming in (forged, one_fen_off, unknown):
        assert notify(container, "fake", incoming).status == 500
    assert states(container, ids) == {"paying"} and count(container, t.payment) == 0
    outcomes = {r.outcome for r in container.engine.connect().execute(select(t.notification_log.c.outcome))}
    assert outcomes == {"rejected", "amount_mismatch", "unknown_order"}


def test_two_notifications_at_the_same_moment_post_once(container, declared, providers):
    person_id, ids = declared
    order = create(container, person_id, ids)
    incoming = providers["fake"].pay(order["order_no"])
    barrier = threading.Barrier(4)
    results = []

    def deliver():
        barrier.wait()
        results.append(notify(container, "fake", incoming).status)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == [200] * 4
    assert count(container, t.payment) == 3
    assert count(container, t.notification_log, t.notification_log.c.outcome == "posted") == 1


def test_an_assessment_is_in_one_live_order_only(container, declared):
    person_id, ids = declared
    create(container, person_id, ids)
    with pytest.raises(Conflict) as err:
        create(container, person_id, ids[:1], method="fake2.qr", amount=100000)
    assert err.value.code == "assessment_not_payable"


def test_an_unknown_outcome_stays_paying_until_the_requery_job_settles_it(container, declared, providers, clock):
    person_id, ids = declared
    providers["fake"].outage = True
    order = create(container, person_id, ids)
    assert order["state"] == "paying"
    clock.set(clock.now() + timedelta(minutes=2))
    c = container
    assert settlement.requery_open_orders(c.uow(), c.providers, c.clock, c.numbers)["unknown"] == 1
    assert states(container, ids) == {"paying"}  # UNKNOWN is never FAIL
    providers["fake"].outage = False
    providers["fake"].pay(order["order_no"], 300000)
    assert settlement.requery_open_orders(c.uow(), c.providers, c.clock, c.numbers)["posted"] == 1
    assert states(container, ids) == {"paid"}


def test_expired_orders_close_at_the_provider_and_release_their_assessments(container, declared, providers, clock):
    person_id, ids = declared
    order = create(container, person_id, ids)
    clock.set(clock.now() + timedelta(minutes=31))
    c = container
    assert settlement.requery_open_orders(c.uow(), c.providers, c.clock, c.numbers)["closed"] == 1
    assert providers["fake"].trades[order["order_no"]].state == "CLOSED"
    assert states(container, ids) == {"declared_unpaid"}


def test_paid_elsewhere_then_a_late_debit_is_refunded_automatically(container, declared, providers, clock):
    person_id, ids = declared
    first = create(container, person_id, ids)
    orders.cancel_order(first["order_no"], [person_id], container.uow(), container.providers, container.clock)
    second = create(container, person_id, ids, method="fake2.qr")
    notify(container, "fake2", providers["fake2"].pay(second["order_no"]))
    assert states(container, ids) == {"paid"}
    # the first provider debits the payer anyway, after we closed the order
    providers["fake"].trades[first["order_no"]].state = "NOTPAY"
    late = providers["fake"].pay(first["order_no"])
    assert notify(container, "fake", late).status == 200
    shown = orders.show_order(first["order_no"], [person_id], container.uow())
    assert shown["state"] == "refunded" and shown["refunds"][0]["state"] == "succeeded"
    assert shown["refunds"][0]["amount_fen"] == 300000
    assert count(container, t.payment) == 3 and states(container, ids) == {"paid"}
    with pytest.raises(Conflict):  # and nothing can be paid twice
        create(container, person_id, ids)


def test_a_pending_refund_is_settled_by_the_job(container, declared, providers, clock):
    from payments.base import ResultState

    person_id, ids = declared
    first = create(container, person_id, ids)
    orders.cancel_order(first["order_no"], [person_id], container.uow(), container.providers, container.clock)
    providers["fake"].refund_outcome = ResultState.WAITING
    providers["fake"].trades[first["order_no"]].state = "NOTPAY"
    notify(container, "fake", providers["fake"].pay(first["order_no"]))
    assert orders.show_order(first["order_no"], [person_id], container.uow())["state"] == "refunding"
    providers["fake"].refund_outcome = ResultState.SUCCESS
    c = container
    assert settlement.requery_open_orders(c.uow(), c.providers, c.clock, c.numbers)["refunds_settled"] == 1
    assert orders.show_order(first["order_no"], [person_id], container.uow())["state"] == "refunded"


def test_the_requery_job_runs_through_rq_on_redis(container, declared, providers, clock, redis_client):
    from rq import SimpleWorker

    from app.jobs import payments as payment_jobs

    person_id, ids = declared
    order = create(container, person_id, ids)
    providers["fake"].pay(order["order_no"], 300000)  # the notification never arrives
    clock.set(clock.now() + timedelta(minutes=2))
    payment_jobs.use_container(container)
    try:
        job = payment_jobs.queue(redis_client).enqueue(payment_jobs.requery_orders)
        SimpleWorker([payment_jobs.queue(redis_client)], connection=redis_client).work(burst=True)
        job.refresh()
        assert job.get_status() == "finished", job.latest_result()
        assert job.return_value()["posted"] == 1
    finally:
        payment_jobs.use_container(None)
    assert states(container, ids) == {"paid"}
    scheduler = payment_jobs.build_scheduler(redis_client)
    from app.jobs import batch_debit

    assert [j.func for j in scheduler.get_jobs()] == [payment_jobs.requery_orders, batch_debit.batch_debit_today,
                                                      batch_debit.resume_batches, batch_debit.refresh_agreements]
