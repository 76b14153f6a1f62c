"""Production as an operator starts it: gunicorn, the RQ worker and the scheduler as real processes.

Settings only from ``SBF_*`` variables and a settings file; PostgreSQL and Redis; the payment
sandboxes in their own process, configured as remote providers. One payment goes from order
to posted — its notification lost on purpose, so the scheduler and the worker's re-query post
it — and one late debit is refunded to done. Along the way: the metrics move, every log line
is JSON with the request id the answer carried and no personal data, readiness names its
checks, and the personal-data access log tells who read whom.
"""
from __future__ import annotations

import json
import re
import time
from email.utils import parsedate_to_datetime

import pytest
import requests
from sqlalchemy import create_engine

from app.adapters.clock import SHANGHAI, SystemClock
from app.adapters.crypto import FieldCipher
from app.adapters.repositories import SqlUnitOfWork
from app.domain.periods import Month
from app.services.orders import close_locally
from payments.sandbox.common import SandboxClient
from tests.production import ROOT, flask, non_loopback_address, running_service

DEMO = json.loads((ROOT / "config" / "demo_people.json").read_text(encoding="utf-8"))
ZHANG = next(r for r in DEMO["enrollments"] if r["name"] == "张伟" and r["insurance"] == "pension")

pytestmark = pytest.mark.skipif(non_loopback_address() is None,
                                reason="production refuses a loopback public URL and this machine has no other")


@pytest.fixture(scope="module")
def service(settings, database, redis_client, tmp_path_factory):
    redis_client.flushdb()
    with running_service(settings["DATABASE_URL"], settings["REDIS_URL"], tmp_path_factory.mktemp("prod")) as svc:
        yield svc
    redis_client.flushdb()


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(3))
    return total


def api(service, method, path, token=None, **kwargs):
    headers = {"X-Session-Token": token} if token else {}
    return requests.request(method, service["base"] + path, headers=headers, timeout=20, **kwargs)


def wait_state(service, token, order_no, state, timeout=30.0):
    deadline = time.monotonic() + timeout
    shown = None
    while time.monotonic() < deadline:
        shown = api(service, "GET", f"/api/v1/orders/{order_no}", token).json()
        if shown["state"] == state:
            return shown
        time.sleep(0.2)
    raise AssertionError(f"order {order_no} is {shown and shown['state']}, not {state}")


def declare(service) -> tuple[str, list[int], int]:
    wrong = api(service, "POST", "/api/v1/identifications",
                json={"name": "张三", "id_type": "resident_id", "id_number": ZHANG["id_number"]})
    assert wrong.status_code == 404
    found = api(service, "POST", "/api/v1/identifications",
                json={"name": ZHANG["name"], "id_type": "resident_id", "id_number": ZHANG["id_number"]})
    assert found.status_code == 201, found.text
    token = found.json()["token"]
    eid = next(e["id"] for e in found.json()["enrollments"] if e["insurance"] == "pension")
    # the months as the service sees them: its processes keep the real date even when the suite's is faked
    current = Month.of(parsedate_to_datetime(found.headers["Date"]).astimezone(SHANGHAI).date())
    periods = [str(current.plus(-1)), str(current)]
    chosen = api(service, "POST", f"/api/v1/enrollments/{eid}/choices", token,
                 json={"base_fen": 398000, "effective_month": periods[0]})
    assert chosen.status_code == 201, chosen.text
    declared = api(service, "POST", f"/api/v1/enrollments/{eid}/declarations", token, json={"periods": periods})
    assert declared.status_code == 201, declared.text
    return token, [a["id"] for a in declared.json()["assessments"]], declared.json()["total_fen"]


def order(service, token, ids, total, method):
    created = api(service, "POST", "/api/v1/orders", token,
                  json={"assessment_ids": ids, "method": method, "confirmed_amount_fen": total})
    assert created.status_code == 201, created.text
    return created


def log_lines(service) -> list[dict]:
    lines = []
    for name, path in service["logs"].items():
        for raw in path.read_text(encoding="utf-8").splitlines():
            if raw.strip():
                record = json.loads(raw)  # every line is JSON, whichever process wrote it
                lines.append({**record, "_process": name})
    return lines


def test_a_payment_posts_and_a_late_debit_is_refunded_with_metrics_logs_and_access_log(service):
    before = api(service, "GET", "/metrics").text
    token, ids, total = declare(service)

    # the payer starts at Alipay; our side gives up on that order (expired) while the cashier is still open
    first = order(service, token, ids, total, "alipay.qr").json()
    env = service["env"]
    engine = create_engine(env["SBF_DATABASE_URL"])
    uow = SqlUnitOfWork(engine, FieldCipher.from_settings(env["SBF_ENCRYPTION_KEY"], env["SBF_INDEX_KEY"]))
    with uow:
        assert close_locally(uow, uow.orders.get_by_no(first["order_no"]), SystemClock(), reason="expired")
        uow.commit()
    engine.dispose()

    # then pays by WeChat Pay; the notification is lost, so only the scheduler + worker can post it
    wechat = SandboxClient(service["urls"]["wechatpay"])
    wechat.set_faults(lose_notifications=True)
    created = order(service, token, ids, total, "wechatpay.native")
    second = created.json()
    wechat.pay(second["order_no"])
    posted = wait_state(service, token, second["order_no"], "posted")
    assert all(item["e_ticket_number"] for item in posted["items"])

    # the late Alipay debit arrives by notification: it cannot be posted, so it goes back
    SandboxClient(service["urls"]["alipay"]).pay(first["order_no"])
    refunded = wait_state(service, token, first["order_no"], "refunded")
    assert refunded["refunds"][0]["state"] == "succeeded"

    after = api(service, "GET", "/metrics").text
    moved = {
        ("sbf_http_request_duration_seconds_count", (("route", "/api/v1/orders"), ("method", "POST"))),
        ("sbf_notifications_total", (("provider", "alipay"), ("outcome", "accepted"))),
        ("sbf_order_transitions_total", (("from_state", "paying"), ("to_state", "succeeded"))),  # by the worker
        ("sbf_order_transitions_total", (("from_state", "succeeded"), ("to_state", "posted"))),
        ("sbf_order_transitions_total", (("from_state", "refunding"), ("to_state", "refunded"))),
        ("sbf_provider_calls_total", (("provider", "wechatpay"), ("operation", "query"), ("outcome", "SUCCESS"))),
        ("sbf_provider_calls_total", (("provider", "alipay"), ("operation", "refund"))),
        ("sbf_provider_call_duration_seconds_count", (("provider", "wechatpay"), ("operation", "prepay"))),
        ("sbf_business_events_total", (("event", "order_posted"),)),
        ("sbf_business_events_total", (("event", "identification_failed"),)),
    }
    for name, labels in moved:
        assert metric(after, name, **dict(labels)) > metric(before, name, **dict(labels)), (name, labels)
    assert "sbf_requery_lag_seconds 0.0" in after  # nothing debited is left unposted
    assert "sbf_reconciliation_differences_open 0.0" in after
    assert "sbf_provider_call_exceptions 0.0" in after and re.search(r"^sbf_outbox_backlog \d", after, re.M)

    # logs: JSON from every process, one line per business fact, the response's request id, no personal data
    lines = log_lines(service)
    facts = {(r.get("event"), r.get("order_no")): r for r in lines if r.get("event")}
    rid = created.headers["X-Request-ID"]
    assert facts[("order_created", second["order_no"])]["request_id"] == rid
    assert facts[("order_posted", second["order_no"])]["_process"] == "worker"
    assert facts[("order_posted", second["order_no"])]["request_id"].startswith("job-")
    assert facts[("notification_accepted", first["order_no"])]["provider"] == "alipay"
    assert facts[("refund_requested", first["order_no"])]["reason"] == "order_closed"
    assert ("refund_done", first["order_no"]) in facts
    assert any(r.get("event") == "identification_failed" for r in lines)
    assert any(r.get("message") == "request" and r.get("request_id") == rid for r in lines)
    text = "\n".join(path.read_text(encoding="utf-8") for path in service["logs"].values())
    for person in DEMO["enrollments"]:
        assert person["name"] not in text and person["id_number"] not in text

    # readiness names each check; the access log knows who read 张伟's data and why
    ready = api(service, "GET", "/readyz").json()
    for check in ("database", "migrations", "redis", "job_queue"):
        assert ready["checks"][check] == "ok", ready
    shown = flask(env, "access-log", "--format", "json", "--limit", "500")
    assert shown.returncode == 0, shown.stderr
    reads = [json.loads(line) for line in shown.stdout.splitlines()]
    purposes = {r["purpose"] for r in reads}
    assert "POST /api/v1/identifications" in purposes and "POST /api/v1/orders" in purposes
    assert any(r["accessor_kind"] == "operator" and r["accessor"] == "ops-test"
               and r["purpose"].endswith("flask bureau import-enrollments") for r in reads)
    assert all(ZHANG["id_number"] not in json.dumps(r, ensure_ascii=False) for r in reads)
