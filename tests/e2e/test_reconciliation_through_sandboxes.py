"""Reconciliation of a day paid for real through each sandbox gateway, whose statement carries injected faults.

Three orders are paid and posted through WeChat Pay, Alipay or UnionPay over loopback; the
gateway's statement is then told to list one payment one fen off, to leave another out, to list
the third twice, to add a debit for an order nobody opened and a refund nobody asked for.
Reconciliation of the day (the provider's real statement download, on PostgreSQL) finds exactly
those five differences,
and running it again finds the same and writes nothing.
"""
from __future__ import annotations

from datetime import datetime, time as day_time, timedelta

import pytest
from sqlalchemy import select

from app.adapters import tables as t
from app.adapters.clock import SHANGHAI, FixedClock
from app.adapters.reconciliation_sql import SqlReconciliationBook
from app.domain import reconciliation as rules
from app.services.reconciliation import reconcile_day
from payments.sandbox.common import SandboxClient, unknown_numbers
from payments.sandbox.wiring import GATEWAYS
from tests.e2e.test_pay_through_sandboxes import declare_three_months, order, wait_for
from tests.e2e.test_pay_through_sandboxes import client, env, world  # noqa: F401 - fixtures


@pytest.fixture(params=GATEWAYS)
def provider(request):
    return request.param


def pay_three_orders(client, env, provider) -> list[str]:
    headers, ids, _ = declare_three_months(client, env)
    sandbox = SandboxClient(env["urls"][provider])
    numbers = []
    for assessment_id in ids:
        with env["app"].extensions["sbf"].engine.connect() as conn:
            amount = conn.execute(select(t.assessment.c.amount_fen).where(t.assessment.c.id == assessment_id)).scalar()
        created = order(client, headers, [assessment_id], amount, provider)
        sandbox.pay(created["order_no"])
        wait_for(client, headers, created["order_no"], "posted")
        numbers.append(created["order_no"])
    return numbers


def differences(engine) -> list[tuple]:
    d = t.reconciliation_difference
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(d.c.id, d.c.kind, d.c.order_no, d.c.refund_no,
                                                          d.c.provider_amount_fen, d.c.our_amount_fen,
                                                          d.c.found_at).order_by(d.c.id))]


def runs(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(t.reconciliation_run))]


def test_a_day_with_injected_faults_gives_exactly_those_differences_and_a_rerun_writes_nothing(client, env,
                                                                                                provider):
    first, second, third = pay_three_orders(client, env, provider)
    container = env["app"].extensions["sbf"]
    with container.engine.connect() as conn:
        paid = {row.order_no: row for row in conn.execute(select(t.payment_order))}
    day = paid[first].paid_at.astimezone(SHANGHAI).date()
    SandboxClient(env["urls"][provider]).set_faults(
        statement_amount_order=first, statement_amount_delta_fen=1, statement_drop_order=second,
        statement_duplicate_order=third, statement_unknown_debit_fen=12345, statement_unknown_refund_fen=100)

    def book():
        return SqlReconciliationBook(container.engine)

    after_the_day = FixedClock(datetime.combine(day + timedelta(days=1), day_time(9), tzinfo=SHANGHAI))
    report = reconcile_day(day, provider, container.providers, book, after_the_day)

    unknown_order, unknown_refund = unknown_numbers(day)
    found = differences(container.engine)
    assert {(kind, order_no, refund_no, theirs, ours) for _, kind, order_no, refund_no, theirs, ours, _ in found} == {
        (rules.AMOUNT_DIFFERS, first, None, paid[first].amount_fen + 1, paid[first].amount_fen),
        (rules.MISSING_THERE, second, None, None, paid[second].amount_fen),
        (rules.MISSING_HERE, unknown_order, None, 12345, None),
        (rules.REFUND_UNKNOWN_HERE, first, unknown_refund, 100, None),
        (rules.POSTED_TWICE, third, None, 2 * paid[third].amount_fen, paid[third].amount_fen),
    }
    assert report.new_differences == 5 and report.run_written
    run = report.run
    assert (run.state, run.difference_count) == ("done", 5)
    assert (run.statement.payment_count, run.statement.payment_fen) == (
        4, paid[first].amount_fen + 1 + 2 * paid[third].amount_fen + 12345)
    assert (run.statement.refund_count, run.statement.refund_fen) == (1, 100)
    assert (run.ours.payment_count, run.ours.payment_fen) == (3, sum(paid[n].amount_fen for n in paid))
    assert (run.ours.refund_count, run.ours.refund_fen) == (0, 0)

    runs_before = runs(container.engine)
    again = reconcile_day(day, provider, container.providers, book,
                          FixedClock(after_the_day.now() + timedelta(hours=1)))
    assert sorted(d.key for d in again.differences) == sorted(d.key for d in report.differences)
    assert again.new_differences == 0 and not again.run_written
    assert differences(container.engine) == found
    assert runs(container.engine) == runs_before


def test_a_statement_the_gateway_cannot_give_leaves_the_day_unavailable_until_a_later_run(client, env):
    container = env["app"].extensions["sbf"]
    first = pay_three_orders(client, env, "wechatpay")[0]
    with container.engine.connect() as conn:
        paid_at = conn.execute(select(t.payment_order.c.paid_at).where(t.payment_order.c.order_no == first)).scalar()
    day = paid_at.astimezone(SHANGHAI).date()
    after_the_day = FixedClock(datetime.combine(day + timedelta(days=1), day_time(9), tzinfo=SHANGHAI))
    sandbox = SandboxClient(env["urls"]["wechatpay"])

    def book():
        return SqlReconciliationBook(container.engine)

    sandbox.set_faults(api_5xx=True)
    trouble = reconcile_day(day, "wechatpay", container.providers, book, after_the_day)
    assert trouble.run.state == "unavailable" and trouble.run.error and differences(container.engine) == []
    with book() as b:
        assert b.unavailable_days("wechatpay", day) == [day]

    sandbox.set_faults(api_5xx=False)
    done = reconcile_day(day, "wechatpay", container.providers, book, after_the_day)
    assert (done.run.state, done.run.difference_count, done.run.ours.payment_count) == ("done", 0, 3)
    assert [(r[2], r[3]) for r in runs(container.engine)] == [("wechatpay", "done")]
