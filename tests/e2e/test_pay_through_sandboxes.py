"""Paying for real: our app served on 127.0.0.1, the real SDKs, the sandbox gateways' protocols.

For each of WeChat Pay, Alipay and UnionPay: three assessments paid and posted with e-ticket
numbers; 15 copies of a notification post once; a notification signed with another key, or
one fen off, changes nothing; a 5xx gateway leaves the order paying until the re-query job
settles it. Across providers: what was paid through one cannot be paid through another, and a
late second debit is refunded automatically.
"""
from __future__ import annotations

import importlib
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.adapters import tables as t
from app.domain.periods import Month
from app.services import orders as order_service
from app.services import call_worker
from payments.base import PrepayRequest
from payments.registry import load_object
from payments.sandbox.common import SandboxClient, ServedApp
from payments.sandbox.wiring import GATEWAYS
from tests.conftest import reset_state
from tests.served import TIME_SCALE, served_world
from tests.e2e.test_api_core_flow import ZHANG, enrollment_id, session
from tests.timeline import wall_now, wall_today

METHOD = {"wechatpay": "wechatpay.native", "alipay": "alipay.qr", "unionpay": "unionpay.qr", "ccb": "ccb.card"}


@pytest.fixture(scope="module")
def world(settings, database, redis_client, tmp_path_factory):
    """Three sandbox gateways and our app, each on its own loopback port."""
    with served_world(settings, tmp_path_factory.mktemp("sandbox-keys")) as world:
        yield world


@pytest.fixture
def env(world, redis_client):
    for url in world["urls"].values():  # first: a retried notification of the last test must not race the reset
        SandboxClient(url).reset()
    reset_state(world["app"], redis_client)
    return world


@pytest.fixture
def client(env):
    return env["app"].test_client()


def declare_three_months(client, env) -> tuple[dict, list[int], int]:
    assert env["app"].test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    body, headers = session(client, ZHANG)
    eid = enrollment_id(body, "pension")
    current = Month.of(wall_today())
    periods = [str(current.plus(-2)), str(current.plus(-1)), str(current)]
    chosen = client.post(f"/api/v1/enrollments/{eid}/choices", json={"base_fen": 398000, "effective_month": periods[0]},
                         headers=headers)
    assert chosen.status_code == 201, chosen.json
    declared = client.post(f"/api/v1/enrollments/{eid}/declarations", json={"periods": periods}, headers=headers)
    assert declared.status_code == 201, declared.json
    return headers, [a["id"] for a in declared.json["assessments"]], declared.json["total_fen"]


def order(client, headers, ids, total, provider):
    created = client.post("/api/v1/orders", json={"assessment_ids": ids, "method": METHOD[provider],
                                                  "confirmed_amount_fen": total}, headers=headers)
    assert created.status_code == 201, created.json
    return created.json


def wait_for(client, headers, order_no, state, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = client.get(f"/api/v1/orders/{order_no}", headers=headers).json
        if shown["state"] == state:
            return shown
        time.sleep(0.05)
    raise AssertionError(f"order {order_no} is {shown['state']}, not {state}")


def count(env, table, *where):
    with env["app"].extensions["sbf"].engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def log_outcomes(env, order_no):
    with env["app"].extensions["sbf"].engine.connect() as conn:
        return [r.outcome for r in conn.execute(select(t.notification_log.c.outcome)
                                                .where(t.notification_log.c.order_no == order_no))]


def requery(env):
    """One run of the provider-call worker, with every pending call made due now (the clock is real)."""
    c = env["app"].extensions["sbf"]
    with c.engine.begin() as conn:
        conn.execute(update(t.provider_call).where(t.provider_call.c.state == "pending")
                     .values(next_attempt_at=c.clock.now()))
    return call_worker.run_due_calls(c.uow(), c.payments)


@pytest.fixture(params=GATEWAYS)
def provider(request):
    return request.param


def test_three_assessments_are_paid_and_posted_once_despite_fifteen_copies(client, env, provider):
    headers, ids, total = declare_three_months(client, env)
    created = order(client, headers, ids, total, provider)
    assert created["state"] == "paying" and (created["pay"]["qr_code"] or created["pay"]["pay_url"])
    sandbox = SandboxClient(env["urls"][provider])
    sandbox.set_faults(duplicate_notifications=14)
    sandbox.pay(created["order_no"])
    posted = wait_for(client, headers, created["order_no"], "posted")
    assert len(posted["items"]) == 3 and all(i["e_ticket_number"] for i in posted["items"])
    deadline = time.monotonic() + 20  # wait for all fifteen copies to land, then count what they did
    while len(sandbox.deliveries()) < 15 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sandbox.deliveries()) >= 15
    assert count(env, t.payment) == 3
    assert log_outcomes(env, created["order_no"]).count("posted") == 1


def test_a_notification_one_fen_off_changes_nothing(client, env, provider):
    headers, ids, total = declare_three_months(client, env)
    created = order(client, headers, ids, total, provider)
    sandbox = SandboxClient(env["urls"][provider])
    sandbox.set_faults(notify_amount_delta_fen=-1)
    sandbox.pay(created["order_no"])
    deadline = time.monotonic() + 10
    while "amount_mismatch" not in log_outcomes(env, created["order_no"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "amount_mismatch" in log_outcomes(env, created["order_no"])
    shown = client.get(f"/api/v1/orders/{created['order_no']}", headers=headers).json
    assert shown["state"] == "paying" and count(env, t.payment) == 0


def test_a_notification_signed_with_another_key_changes_nothing(client, env, provider, tmp_path):
    """An impostor gateway with keys of its own tells our notify URL that our order was paid."""
    headers, ids, total = declare_three_months(client, env)
    created = order(client, headers, ids, total, provider)
    sandbox_module = importlib.import_module(f"payments.sandbox.{provider}")
    with ServedApp(sandbox_module.create_sandbox_app(tmp_path, time_scale=TIME_SCALE)) as impostor:
        kwargs = sandbox_module.sandbox_provider_settings(tmp_path, impostor.url)
        forger = load_object(f"payments.{provider}.provider:build")(**kwargs)
        opened = forger.prepay(PrepayRequest(
            order_no=created["order_no"], amount_fen=total, description="社保费", method=METHOD[provider].split(".")[1],
            notify_url=f"{env['ours'].url}/api/v1/notify/{provider}",
            expires_at=wall_now() + timedelta(minutes=30)))
        assert opened.state.value == "WAITING"
        SandboxClient(impostor.url).pay(created["order_no"])
        deadline = time.monotonic() + 10
        while "rejected" not in _all_outcomes(env) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "rejected" in _all_outcomes(env)
    shown = client.get(f"/api/v1/orders/{created['order_no']}", headers=headers).json
    assert shown["state"] == "paying" and count(env, t.payment) == 0


def _all_outcomes(env):
    with env["app"].extensions["sbf"].engine.connect() as conn:
        return [r.outcome for r in conn.execute(select(t.notification_log.c.outcome))]


def test_a_gateway_answering_5xx_leaves_the_order_paying_until_the_job_settles_it(client, env, provider):
    headers, ids, total = declare_three_months(client, env)
    created = order(client, headers, ids, total, provider)
    sandbox = SandboxClient(env["urls"][provider])
    sandbox.set_faults(lose_notifications=True)
    sandbox.pay(created["order_no"])
    sandbox.set_faults(api_5xx=True)
    assert requery(env)["unknown"] == 1
    assert client.get(f"/api/v1/orders/{created['order_no']}", headers=headers).json["state"] == "paying"
    sandbox.set_faults(api_5xx=False)
    assert requery(env)["posted"] == 1
    assert wait_for(client, headers, created["order_no"], "posted")


def test_paid_through_wechat_cannot_be_paid_through_alipay_and_a_late_debit_goes_back(client, env):
    headers, ids, total = declare_three_months(client, env)
    first = order(client, headers, ids, total, "alipay")
    # our side gave up on the Alipay order (expired) while the payer was still at Alipay's cashier
    c = env["app"].extensions["sbf"]
    with c.uow() as uow:
        assert order_service.close_locally(uow, uow.orders.get_by_no(first["order_no"]), c.clock, reason="expired")
        uow.commit()
    paid = order(client, headers, ids, total, "wechatpay")
    SandboxClient(env["urls"]["wechatpay"]).pay(paid["order_no"])
    wait_for(client, headers, paid["order_no"], "posted")
    again = client.post("/api/v1/orders", json={"assessment_ids": ids, "method": "alipay.qr",
                                                "confirmed_amount_fen": total}, headers=headers)
    assert again.status_code == 409 and again.json["code"] == "assessment_not_payable"
    SandboxClient(env["urls"]["alipay"]).pay(first["order_no"])  # the late second debit
    wait_for(client, headers, first["order_no"], "refunding")  # the notification only records the refund
    assert requery(env)["refund_sent_refunded"] == 1
    refunded = wait_for(client, headers, first["order_no"], "refunded")
    assert refunded["refunds"][0]["amount_fen"] == total and refunded["refunds"][0]["state"] == "succeeded"
    assert refunded["state_label"] == "扣款成功但缴费失败，已退款（款项已原路退回）"
    assert count(env, t.payment) == 3
