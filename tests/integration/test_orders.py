"""Orders and settlement on PostgreSQL with the fake provider: our rules, not a provider's protocol."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.adapters import tables as t
from app.domain.errors import Conflict
from app.services import call_worker, declarations, enrollments, orders, settlement
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
    new = orders.NewOrder(person_ids=[person_id], assessment_ids=ids, channel=channel, method=method,
                          confirmed_amount_fen=amount)
    return orders.create_order(new, c.uow(), c.payments)


def notify(container, provider_code, incoming):
    c = container
    return settlement.receive_notification(provider_code, incoming, c.uow(), c.payments)


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
        assert notify(container, "fake", incoming).status == 400
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


def run(container) -> dict:
    return call_worker.run_due_calls(container.uow(), container.payments)


def test_an_unknown_outcome_stays_paying_until_the_requery_job_settles_it(container, declared, providers, clock):
    person_id, ids = declared
    order = create(container, person_id, ids)
    providers["fake"].outage = True
    clock.set(clock.now() + timedelta(minutes=2))
    assert run(container) == {"unknown": 1}
    assert states(container, ids) == {"paying"}  # UNKNOWN is never FAIL
    providers["fake"].outage = False
    providers["fake"].pay(order["order_no"], 300000)
    clock.set(clock.now() + timedelta(minutes=1))
    assert run(container) == {"posted": 1}
    assert states(container, ids) == {"paid"}


def test_a_prepay_without_an_answer_is_not_a_201_and_its_assessments_come_back(container, declared, providers, clock):
    from app.domain.channels import ServiceUnavailable

    person_id, ids = declared
    providers["fake"].outage = True
    with pytest.raises(ServiceUnavailable) as refused:
        create(container, person_id, ids)
    assert refused.value.code == "payment_not_opened" and "请稍后重试" in refused.value.message
    assert states(container, ids) == {"paying"}  # held until the provider confirms it is closed
    assert run(container) == {"unknown": 1}
    providers["fake"].outage = False
    clock.set(clock.now() + timedelta(minutes=1))
    assert run(container)["closed"] == 1
    assert states(container, ids) == {"declared_unpaid"}
    assert create(container, person_id, ids)["state"] == "paying"


def test_expired_orders_close_at_the_provider_and_release_their_assessments(container, declared, providers, clock):
    person_id, ids = declared
    order = create(container, person_id, ids)
    clock.set(clock.now() + timedelta(minutes=31))
    assert run(container) == {"expired": 1, "closed": 1}
    assert providers["fake"].trades[order["order_no"]].state == "CLOSED"
    assert states(container, ids) == {"declared_unpaid"}


def test_paid_elsewhere_then_a_late_debit_is_refunded_automatically(container, declared, providers, clock):
    person_id, ids = declared
    first = create(container, person_id, ids)
    orders.cancel_order(first["order_no"], [person_id], container.uow(), container.payments)
    second = create(container, person_id, ids, method="fake2.qr")
    notify(container, "fake2", providers["fake2"].pay(second["order_no"]))
    assert states(container, ids) == {"paid"}
    # the first provider debits the payer anyway, after we closed the order
    providers["fake"].trades[first["order_no"]].state = "NOTPAY"
    late = providers["fake"].pay(first["order_no"])
    assert notify(container, "fake", late).status == 200  # answered at once: the refund is only recorded
    assert orders.show_order(first["order_no"], [person_id], container.uow())["state"] == "refunding"
    assert run(container)["refund_sent_refunded"] == 1
    shown = orders.show_order(first["order_no"], [person_id], container.uow())
    assert shown["state"] == "refunded" and shown["refunds"][0]["state"] == "succeeded"
    assert shown["refunds"][0]["amount_fen"] == 300000 and "已退款" in shown["refunds"][0]["state_label"]
    assert count(container, t.payment) == 3 and states(container, ids) == {"paid"}
    with pytest.raises(Conflict):  # and nothing can be paid twice
        create(container, person_id, ids)


def test_a_pending_refund_is_settled_by_the_job(container, declared, providers, clock):
    from payments.base import ResultState

    person_id, ids = declared
    first = create(container, person_id, ids)
    orders.cancel_order(first["order_no"], [person_id], container.uow(), container.payments)
    providers["fake"].refund_outcome = ResultState.WAITING
    providers["fake"].trades[first["order_no"]].state = "NOTPAY"
    notify(container, "fake", providers["fake"].pay(first["order_no"]))
    assert run(container) == {"refund_sent_waiting": 1}
    assert orders.show_order(first["order_no"], [person_id], container.uow())["state"] == "refunding"
    providers["fake"].refund_outcome = ResultState.SUCCESS
    clock.set(clock.now() + timedelta(minutes=1))
    assert run(container)["refund_asked_refunded"] == 1
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
    from app.jobs.reconcile import reconcile_due_days
    from app.jobs.reminders import send_reminders_daily

    assert [j.func for j in scheduler.get_jobs()] == [payment_jobs.run_provider_calls, batch_debit.batch_debit_today,
                                                      batch_debit.resume_batches, batch_debit.refresh_agreements,
                                                      reconcile_due_days, send_reminders_daily]


def test_e_ticket_numbers_state_region_and_day_and_a_wrapped_serial_draws_again(container, declared, providers,
                                                                                 clock):
    from sqlalchemy import text

    person_id, ids = declared
    first = create(container, person_id, ids[:1], amount=100000)
    with container.engine.connect() as conn:
        start = conn.execute(text("SELECT nextval('e_ticket_serial')")).scalar_one()
    notify(container, "fake", providers["fake"].pay(first["order_no"]))
    second = create(container, person_id, ids[1:], amount=200000)
    with container.engine.begin() as conn:  # as if the 7-digit serial had come round to the first's numbers
        conn.execute(text("SELECT setval('e_ticket_serial', :v)"), {"v": start})
    assert notify(container, "fake", providers["fake"].pay(second["order_no"])).status == 200
    with container.engine.connect() as conn:
        tickets = conn.execute(select(t.payment.c.e_ticket_number)).scalars().all()
    assert len(tickets) == len(set(tickets)) == 3
    assert all(x.startswith("3370200261123") and len(x) == 20 for x in tickets)


def test_an_order_whose_payment_could_not_be_opened_answers_503_in_chinese_not_201(client, declared, providers):
    person_id, ids = declared
    token = client.post("/api/v1/identifications", json={"name": ZHANG["name"], "id_type": ZHANG["id_type"],
                                                          "id_number": ZHANG["id_number"]}).json["token"]
    providers["fake"].outage = True
    answer = client.post("/api/v1/orders", json={"assessment_ids": ids, "method": "fake.qr",
                                                 "confirmed_amount_fen": 300000}, headers={"X-Session-Token": token})
    assert answer.status_code == 503 and answer.json["code"] == "payment_not_opened"
    assert "未能发起" in answer.json["message"] and "请稍后重试" in answer.json["message"]


def test_the_worker_takes_due_calls_a_page_at_a_time_most_overdue_first(container, declared, providers, clock):
    person_id, ids = declared
    placed = []
    for i, aid in enumerate(ids):  # three orders, a minute apart: their first checks fall due in that order
        placed.append(create(container, person_id, [aid], amount=100000)["order_no"])
        providers["fake"].pay(placed[-1], 100000)  # paid; the notifications are lost
        clock.set(clock.now() + timedelta(minutes=1))
    clock.set(clock.now() + timedelta(minutes=5))
    c = container
    posted = []
    for _ in range(3):
        assert call_worker.run_due_calls(c.uow(), c.payments, page_size=1, max_pages=1) == {"posted": 1}
        with c.engine.connect() as conn:
            posted.append(conn.execute(select(t.payment_order.c.order_no).where(t.payment_order.c.state == "posted")
                                       .order_by(t.payment_order.c.posted_at.desc(), t.payment_order.c.id.desc())
                                       ).scalars().first())
    assert set(posted) == set(placed) and posted[0] == placed[0]


def test_a_refund_recorded_by_a_notification_wakes_the_worker_on_rq(container, declared, providers, redis_client):
    from rq import SimpleWorker

    from app.jobs import payments as payment_jobs

    person_id, ids = declared
    first = create(container, person_id, ids)
    orders.cancel_order(first["order_no"], [person_id], container.uow(), container.payments)
    providers["fake"].trades[first["order_no"]].state = "NOTPAY"
    queue = payment_jobs.queue(redis_client)
    queue.empty()
    notify(container, "fake", providers["fake"].pay(first["order_no"]))  # a late debit: the refund is recorded
    assert [j.func_name for j in queue.jobs] == [payment_jobs.JOB]
    payment_jobs.use_container(container)
    try:
        SimpleWorker([queue], connection=redis_client).work(burst=True)
    finally:
        payment_jobs.use_container(None)
    assert orders.show_order(first["order_no"], [person_id], container.uow())["state"] == "refunded"
