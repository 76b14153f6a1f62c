"""Money that cannot get stuck: faults on the pay path, over loopback against the sandbox gateways,
on PostgreSQL, with the real SDKs.

A refund the provider never received; timeouts and 5xx; duplicate and late notifications; a
process killed (SIGKILL) between verifying a notification and committing it; the re-query
worker killed mid-run; a paid WeChat order whose notifications were all lost, behind a
thousand open counter vouchers. After each, every debit at the provider is posted exactly once
or refunded exactly once, and anything else is in the exceptions list.

Our app runs on a fixed clock (moved by the tests, so schedules are exact) that starts at the
real time, because the sandboxes sign and expire with the real time.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from app.adapters import tables as t
from app.adapters.clock import FixedClock
from app.domain.calls import QUERY
from app.services import call_worker, orders as order_service, provider_calls
from payments.base import ResultState
from payments.sandbox.common import SandboxClient
from tests.conftest import reset_state
from tests.e2e.test_pay_through_sandboxes import declare_three_months, order, wait_for
from tests.served import served_world
from tests.timeline import CHILD_PRELUDE, child_env, wall_now

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def clock():
    return FixedClock(wall_now().replace(microsecond=0))


@pytest.fixture(scope="module")
def world(settings, database, redis_client, tmp_path_factory, clock):
    # a one-second timeout, so a gateway that sleeps longer is a timeout, not a slow test
    with served_world(settings, tmp_path_factory.mktemp("fault-keys"), clock=clock,
                      provider_kwargs={"wechatpay": {"timeout_seconds": 1.0}}) as world:
        world["settings"] = settings
        yield world


@pytest.fixture
def env(world, redis_client, clock):
    for url in world["urls"].values():
        SandboxClient(url).reset()
    reset_state(world["app"], redis_client)
    clock.set(wall_now().replace(microsecond=0))
    return world


@pytest.fixture
def client(env):
    return env["app"].test_client()


def container(env):
    return env["app"].extensions["sbf"]


def run(env) -> dict:
    c = container(env)
    return call_worker.run_due_calls(c.uow(), c.payments)


def later(clock, **delta) -> None:
    clock.set(clock.now() + timedelta(**delta))


def assert_every_debit_posted_once_or_refunded_once(env) -> None:
    """Ask the provider about every order: money taken is posted once or refunded once, never both."""
    c = container(env)
    with c.engine.connect() as conn:
        orders = conn.execute(select(t.payment_order)).all()
        for o in orders:
            items = conn.execute(select(func.count()).select_from(t.order_item)
                                 .where(t.order_item.c.order_id == o.id)).scalar_one()
            payments = conn.execute(select(func.count()).select_from(t.payment)
                                    .where(t.payment.c.order_id == o.id)).scalar_one()
            refunded = conn.execute(select(func.count()).select_from(t.refund).where(
                t.refund.c.order_id == o.id, t.refund.c.state == "succeeded")).scalar_one()
            debited = c.providers[o.provider].query(o.order_no).state == ResultState.SUCCESS
            if debited:
                assert (o.state, payments, refunded) in (("posted", items, 0), ("refunded", 0, 1)), o.order_no
            else:
                assert (payments, refunded) == (0, 0) and o.state != "posted", o.order_no
        pending_or_exception = conn.execute(select(func.count()).select_from(t.refund)
                                            .where(t.refund.c.state != "succeeded")).scalar_one()
    assert pending_or_exception == 0


def lost_debit(client, env, provider="wechatpay"):
    """An order paid at the provider whose notifications never arrive."""
    headers, ids, total = declare_three_months(client, env)
    created = order(client, headers, ids, total, provider)
    sandbox = SandboxClient(env["urls"][provider])
    sandbox.set_faults(lose_notifications=True)
    sandbox.pay(created["order_no"])
    return headers, created, sandbox


# -- a refund the provider never received ------------------------------------------------------

def test_a_refund_the_provider_never_received_is_sent_again_and_the_payer_sees_it_refunded(client, env, clock):
    headers, ids, total = declare_three_months(client, env)
    created = order(client, headers, ids, total, "wechatpay")
    c = container(env)
    with c.uow() as uow:  # our side gave up on it while the payer was still at the cashier
        order_service.close_locally(uow, uow.orders.get_by_no(created["order_no"]), c.clock, reason="expired")
        uow.commit()
    sandbox = SandboxClient(env["urls"]["wechatpay"])
    sandbox.pay(created["order_no"])  # the late debit: its notification records a refund, sends nothing
    wait_for(client, headers, created["order_no"], "refunding")

    sandbox.set_faults(api_5xx=True)  # the refund never reaches WeChat Pay
    assert run(env) == {"refund_sent_unknown": 1}
    sandbox.set_faults(api_5xx=False)
    later(clock, minutes=1)
    outcomes = run(env)  # asked: "not found" → sent again with the same refund number
    assert outcomes["refund_asked_send_again"] == 1 and sum(v for k, v in outcomes.items()
                                                            if k.startswith("refund_sent")) == 1
    later(clock, minutes=1)
    assert run(env) == {"refund_asked_refunded": 1}  # asked again: WeChat Pay has refunded it
    shown = client.get(f"/api/v1/orders/{created['order_no']}", headers=headers).json
    assert shown["state"] == "refunded"
    assert shown["refunds"][0]["state"] == "succeeded" and "已退款" in shown["refunds"][0]["state_label"]
    assert "已退款" in shown["state_label"] and shown["refunds"][0]["amount_fen"] == total
    calls = provider_calls.calls_of_order(created["order_no"], c.uow())
    refund_call = next(x for x in calls if x["kind"] == "refund")
    assert refund_call["key"] == shown["refunds"][0]["refund_no"] and refund_call["state"] in ("done", "pending")
    assert_every_debit_posted_once_or_refunded_once(env)


# -- timeouts and 5xx ----------------------------------------------------------------------------

def test_timeouts_and_5xx_leave_a_lost_debit_open_and_the_schedule_posts_it(client, env, clock):
    headers, created, sandbox = lost_debit(client, env)
    later(clock, minutes=1)
    sandbox.set_faults(api_delay_seconds=1.5)  # longer than our one-second timeout
    assert run(env) == {"unknown": 1}
    sandbox.set_faults(api_delay_seconds=0, api_5xx=True)
    later(clock, seconds=30)
    assert run(env) == {"unknown": 1}
    shown = client.get(f"/api/v1/orders/{created['order_no']}", headers=headers).json
    assert shown["state"] == "paying"  # UNKNOWN is never FAIL
    sandbox.set_faults(api_5xx=False)
    later(clock, minutes=1)
    assert run(env) == {"posted": 1}
    assert_every_debit_posted_once_or_refunded_once(env)


def test_a_call_that_keeps_failing_lands_in_the_exceptions_list(client, env, clock):
    headers, created, sandbox = lost_debit(client, env)
    sandbox.set_faults(api_5xx=True)
    c = container(env)
    for _ in range(c.payments.policy.max_attempts):
        later(clock, seconds=c.payments.policy.max_wait_seconds)
        run(env)
    listed = provider_calls.list_exceptions(c.uow())
    assert [(x["kind"], x["order_no"]) for x in listed] == [(QUERY, created["order_no"])]
    assert "no answer after" in listed[0]["last_error"] and listed[0]["state_label"] == "异常，待人工处理"
    shown = env["app"].test_cli_runner().invoke(args=["calls", "exceptions"])
    assert created["order_no"] in shown.output
    sandbox.set_faults(api_5xx=False)  # an operator sends it again, and it settles
    assert env["app"].test_cli_runner().invoke(args=["calls", "send-again", str(listed[0]["id"])]).exit_code == 0
    assert run(env) == {"posted": 1}
    assert provider_calls.list_exceptions(c.uow()) == []
    assert_every_debit_posted_once_or_refunded_once(env)


# -- duplicate and late notifications -------------------------------------------------------------

def test_notifications_later_than_the_requery_and_duplicated_change_nothing(client, env, clock):
    headers, ids, total = declare_three_months(client, env)
    created = order(client, headers, ids, total, "wechatpay")
    sandbox = SandboxClient(env["urls"]["wechatpay"])
    sandbox.set_faults(notify_delay_seconds=3000, duplicate_notifications=4)  # 6 s on the sandbox's scale
    sandbox.pay(created["order_no"])
    later(clock, minutes=1)
    assert run(env) == {"posted": 1}  # the re-query found it first
    deadline = time.monotonic() + 20
    while len([d for d in sandbox.deliveries() if d["acknowledged"]]) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len([d for d in sandbox.deliveries() if d["acknowledged"]]) >= 5  # all five answered as handled
    c = container(env)
    with c.engine.connect() as conn:
        rows = conn.execute(select(t.notification_log.c.outcome, t.notification_log.c.detail, t.notification_log.c.body)
                            .where(t.notification_log.c.order_no == created["order_no"])
                            .order_by(t.notification_log.c.id)).all()
    assert (rows[0].outcome, rows[0].detail) == ("posted", "requery")
    assert {r.outcome for r in rows[1:]} == {"duplicate"} and len(rows) >= 6
    kept = rows[1].body  # each verified notification is kept, personal data stripped
    assert kept["resource"]["out_trade_no"] == created["order_no"] and "payer" not in kept["resource"]
    assert_every_debit_posted_once_or_refunded_once(env)


# -- processes killed ----------------------------------------------------------------------------

KILLABLE = """
import json, os, signal, sys
from datetime import datetime
from werkzeug.datastructures import Headers
from app.adapters.clock import FixedClock
from app.adapters.repositories import SqlUnitOfWork
from app.bootstrap import build_container
from app.services import call_worker, settlement
from payments.base import IncomingNotification

job = json.load(sys.stdin)
c = build_container(job["settings"], clock=FixedClock(datetime.fromisoformat(job["now"])))
commits, real_commit = [0], SqlUnitOfWork.commit

def commit(self):
    commits[0] += 1
    if commits[0] == job["die_at_commit"]:
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no rollback: the connection just drops
    real_commit(self)

SqlUnitOfWork.commit = commit
if job["kind"] == "notification":
    n = job["incoming"]
    settlement.receive_notification("wechatpay", IncomingNotification(
        headers=Headers(n["headers"]), body=n["body"].encode("latin-1"), content_type=n["content_type"]),
        c.uow(), c.payments)
else:
    call_worker.run_due_calls(c.uow(), c.payments)
print("survived")
"""


def run_killed(env, clock, **job) -> subprocess.CompletedProcess:
    settings = {k: v for k, v in env["app"].config.items() if k in env["settings"] or k == "PAYMENT_PROVIDERS"}
    payload = json.dumps({**job, "settings": settings, "now": clock.now().isoformat()}, default=str)
    return subprocess.run([sys.executable, "-c", CHILD_PRELUDE + KILLABLE], input=payload, text=True,
                          capture_output=True, cwd=ROOT, timeout=60, env=child_env(PYTHONPATH=str(ROOT)))


class HeldNotifications:
    """Our notification endpoint as a process that dies before answering: keeps what arrived, answers 500."""

    def __init__(self, app):
        self.app, self.inner, self.held = app, app.wsgi_app, []

    def __enter__(self):
        self.app.wsgi_app = self
        return self

    def __exit__(self, *exc):
        self.app.wsgi_app = self.inner

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/api/v1/notify/wechatpay":
            return self.inner(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = [(k[5:].replace("_", "-").title(), v) for k, v in environ.items() if k.startswith("HTTP_")]
        self.held.append({"headers": headers, "body": body.decode("latin-1"),
                          "content_type": environ.get("CONTENT_TYPE", "")})
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"died"]


def test_a_process_killed_between_verifying_and_committing_a_notification_posts_nothing_and_the_retry_posts_once(
        client, env, clock):
    headers, ids, total = declare_three_months(client, env)
    created = order(client, headers, ids, total, "wechatpay")
    sandbox = SandboxClient(env["urls"]["wechatpay"])
    with HeldNotifications(env["app"]) as held:
        sandbox.pay(created["order_no"])
        deadline = time.monotonic() + 10
        while not held.held and time.monotonic() < deadline:
            time.sleep(0.02)
        assert held.held
        died = run_killed(env, clock, kind="notification", incoming=held.held[0], die_at_commit=1)
    assert died.returncode == -signal.SIGKILL and "survived" not in died.stdout, died.stderr
    c = container(env)
    with c.engine.connect() as conn:  # verified, posted in its transaction, never committed: nothing stays
        assert conn.execute(select(func.count()).select_from(t.payment)).scalar_one() == 0
    shown = wait_for(client, headers, created["order_no"], "posted")  # WeChat Pay's next retry
    assert len(shown["items"]) == 3 and all(i["e_ticket_number"] for i in shown["items"])
    assert_every_debit_posted_once_or_refunded_once(env)


@pytest.mark.parametrize("die_at_commit", [3, 4], ids=["after-posting-before-the-call-is-done", "while-posting"])
def test_the_requery_worker_killed_mid_run_leaves_every_debit_posted_once(client, env, clock, die_at_commit):
    headers, ids, total = declare_three_months(client, env)
    first = order(client, headers, ids[:1], total // 3, "wechatpay")
    second = order(client, headers, ids[1:], total - total // 3, "wechatpay")
    sandbox = SandboxClient(env["urls"]["wechatpay"])
    sandbox.set_faults(lose_notifications=True)
    sandbox.pay(first["order_no"])
    sandbox.pay(second["order_no"])
    later(clock, minutes=1)
    # commits: 1 claims the page, 2 posts the first, 3 marks its call done, 4 posts the second
    died = run_killed(env, clock, kind="requery", die_at_commit=die_at_commit)
    assert died.returncode == -signal.SIGKILL, died.stderr
    c = container(env)
    later(clock, seconds=c.payments.policy.lease_seconds)  # the dead worker's lease ends
    # killed after posting the first: its call is due again and finds the order settled (no provider
    # call); killed while posting the second: the first is done, the second is posted now
    assert run(env) == ({"settled": 1, "posted": 1} if die_at_commit == 3 else {"posted": 1})
    for placed in (first, second):
        assert wait_for(client, headers, placed["order_no"], "posted")
    assert_every_debit_posted_once_or_refunded_once(env)


# -- starvation ----------------------------------------------------------------------------------

def test_a_paid_wechat_order_is_posted_on_schedule_behind_a_thousand_open_counter_vouchers(client, env, clock):
    c = container(env)
    now = clock.now()
    expires = now + timedelta(days=3)
    with c.engine.begin() as conn:  # a thousand vouchers, as create_order leaves them (set-based, for speed)
        conn.execute(insert(t.payment_order), [
            {"order_no": f"V{now:%Y%m%d}{i:010d}", "channel": "etax_web", "provider": "counter", "method": "voucher",
             "amount_fen": 39800, "state": "paying", "description": "社保费缴费-养老", "created_at": now,
             "expires_at": expires, "version": 1, "provider_ref": f"3700{i:014d}"} for i in range(1000)])
        conn.execute(insert(t.provider_call), [
            {"kind": QUERY, "provider": "counter", "key": f"V{now:%Y%m%d}{i:010d}",
             "order_no": f"V{now:%Y%m%d}{i:010d}", "state": "pending", "attempts": 0, "next_attempt_at": expires,
             "request": {}, "created_at": now, "updated_at": now} for i in range(1000)])
    headers, created, _ = lost_debit(client, env)  # WeChat Pay took the money; no notification ever comes
    schedule = c.payments.settings.check_after_seconds
    later(clock, seconds=schedule[0])  # its first check is due
    assert run(env) == {"posted": 1}  # one query, the WeChat one: vouchers are not asked about
    assert client.get(f"/api/v1/orders/{created['order_no']}", headers=headers).json["state"] == "posted"
    lag = provider_calls.money_lag(c.uow(), c.clock)
    assert lag == {"oldest_paid_unposted_seconds": 0, "oldest_overdue_call_seconds": 0, "exceptions": 0}
    with c.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.provider_call).where(
            t.provider_call.c.provider == "counter", t.provider_call.c.attempts > 0)).scalar_one() == 0
