"""Through a channel, for real (OAuth at the sandbox, identification, payment): the logs carry no
name, no document number and no authorization code, and the access log names the channel user.

Also: the request id is generated, or taken from a trusted proxy only; the client address comes
from X-Forwarded-For only as far as the configured proxies go; a 429 is counted; a job runs under
the id of the request that enqueued it; the access log refuses UPDATE and DELETE.
"""
from __future__ import annotations

import io
import json
import logging
import signal

import pytest
import requests
from rq import Queue
from sqlalchemy import text

from app.adapters.personal_data_log import query_access_log
from app.factory import create_app
from app.observability import jobs as observed_jobs
from app.observability.logs import handler
from app.observability.metrics import metrics
from channels.sandbox.wechat import ensure_account
from tests.conftest import reset_state
from tests.e2e.test_api_core_flow import DEMO, ZHANG
from tests.e2e.test_channels_through_sandboxes import (authorize_at_sandbox, declare_current_month, identify_in,
                                                       pay_in_channel)
from tests.served import served_world


def log_inside_a_job():
    logging.getLogger("sbf.test").info("inside the job")


@pytest.fixture(scope="module")
def world(settings, database, redis_client, tmp_path_factory):
    with served_world(settings, tmp_path_factory.mktemp("log-keys")) as world:
        yield world


@pytest.fixture
def env(world, redis_client):
    reset_state(world["app"], redis_client)
    assert world["app"].test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    return world


@pytest.fixture
def captured():
    """Every log line of the test, as the JSON handler writes it."""
    buffer = io.StringIO()
    out = handler("json")
    out.setStream(buffer)
    root = logging.getLogger()
    root.addHandler(out)
    yield buffer
    root.removeHandler(out)


def test_a_channel_payment_logs_facts_without_names_numbers_or_oauth_codes(env, captured):
    client = env["app"].test_client()
    # the browser entry: the code comes back in the callback's query string
    landed = client.get("/channels/wechat_oa/start?next=records")
    at_wechat = requests.get(landed.headers["Location"].split("#")[0] + "&sandbox_user=erin", allow_redirects=False,
                             timeout=10)
    callback = at_wechat.headers["Location"].split("://", 1)[1].split("/", 1)[1]
    browser_code = dict(p.split("=") for p in callback.split("?", 1)[1].split("&"))["code"]
    assert client.get("/" + callback).status_code == 302
    assert client.get("/h5/wechat_oa/identify").status_code == 200
    with client.session_transaction() as cookie:
        csrf = cookie["csrf"]
    page = client.post("/h5/wechat_oa/identify", data={"csrf_token": csrf, "name": ZHANG["name"],
                                                       "id_type": "resident_id", "id_number": ZHANG["id_number"]})
    assert page.status_code == 302, page.text
    # the API entry: the code goes in a JSON body
    entry = client.get("/api/v1/channels/wechat_oa/entry").json
    api_code, state = authorize_at_sandbox(entry["url"], "frank")
    started = client.post("/api/v1/channels/wechat_oa/sessions", json={"code": api_code, "state": state})
    channel_headers = {"X-Channel-Token": started.json["channel_token"]}
    assert identify_in(client, "wechat_oa", channel_headers, ZHANG, name="张三").status_code == 404
    identified = identify_in(client, "wechat_oa", channel_headers, ZHANG)
    ids, total = declare_current_month(client, identified.json)
    posted = pay_in_channel(client, env, "wechat_oa", channel_headers, identified.json, ids, total)

    logged = captured.getvalue()
    lines = [json.loads(line) for line in logged.splitlines()]
    events = {line.get("event") for line in lines}
    assert {"identification_failed", "order_created", "notification_accepted", "order_posted"} <= events
    created = next(line for line in lines if line.get("event") == "order_created")
    assert created["order_no"] == posted["order_no"] and created["channel"] == "wechat_oa"
    assert created["channel_user"].endswith("*") and started.json["channel_user"] not in logged
    for secret in (browser_code, api_code):
        assert secret not in logged
    for person in DEMO["enrollments"]:
        assert person["name"] not in logged and person["id_number"] not in logged

    reads = query_access_log(env["app"].extensions["sbf"].engine, limit=500)
    frank = f"wechat_oa:{ensure_account(env['keys']).openid_of('frank')}"
    assert any(r["accessor_kind"] == "channel_user" and r["accessor"] == frank
               and r["purpose"] == "POST /api/v1/channels/<code>/identifications" and r["request_id"] for r in reads)
    erin = f"wechat_oa:{ensure_account(env['keys']).openid_of('erin')}"
    assert any(r["accessor"] == erin and r["purpose"] == "POST /h5/<channel>/identify" for r in reads)
    assert all(r["fields"] for r in reads)


def test_the_access_log_refuses_update_and_delete(env):
    client = env["app"].test_client()
    found = client.post("/api/v1/identifications", json={"name": ZHANG["name"], "id_type": "resident_id",
                                                         "id_number": ZHANG["id_number"]})
    assert client.get("/api/v1/orders", headers={"X-Session-Token": found.json["token"]}).status_code == 200
    record = client.get("/api/v1/contribution-record", headers={"X-Session-Token": found.json["token"]})
    assert record.status_code == 200, record.json
    engine = env["app"].extensions["sbf"].engine
    assert [r["accessor_kind"] for r in query_access_log(engine)][:2] == ["payer_session", "anonymous"]
    for statement in ("UPDATE personal_data_access SET accessor = 'nobody'", "DELETE FROM personal_data_access"):
        with pytest.raises(Exception, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(statement))
    assert query_access_log(engine)[0]["accessor_kind"] == "payer_session"


def test_the_operator_cli_shows_who_read_whom(env):
    runner = env["app"].test_cli_runner()
    client = env["app"].test_client()
    found = client.post("/api/v1/identifications", json={"name": ZHANG["name"], "id_type": "resident_id",
                                                         "id_number": ZHANG["id_number"]})
    person_id = env["app"].extensions["sbf"].sessions.get(found.json["token"])
    shown = runner.invoke(args=["access-log", "--person", str(person_id), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    rows = [json.loads(line) for line in shown.output.splitlines() if line.startswith("{")]
    assert rows and all(r["person_id"] == person_id for r in rows)
    assert rows[0]["purpose"] == "POST /api/v1/identifications"
    assert rows[0]["request_id"] == found.headers["X-Request-ID"]


def test_the_request_id_is_ours_unless_a_trusted_proxy_gave_one(settings, database, redis_client, clock):
    direct = create_app(settings, clock=clock).test_client()
    answer = direct.get("/healthz", headers={"X-Request-ID": "chosen-by-the-client"})
    assert answer.headers["X-Request-ID"] != "chosen-by-the-client" and len(answer.headers["X-Request-ID"]) == 32
    proxied = create_app(dict(settings, TRUSTED_PROXY_COUNT=1), clock=clock).test_client()
    answer = proxied.get("/healthz", headers={"X-Request-ID": "from-the-proxy-1234"})
    assert answer.headers["X-Request-ID"] == "from-the-proxy-1234"


def test_forwarded_addresses_count_only_as_far_as_the_configured_proxies(settings, database, redis_client, clock):
    seen = {}
    for proxies in (0, 1):
        app = create_app(dict(settings, TRUSTED_PROXY_COUNT=proxies), clock=clock)

        @app.get("/_whoami")
        def whoami():
            from flask import request
            return request.remote_addr

        seen[proxies] = app.test_client().get("/_whoami", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9"},
                                              environ_base={"REMOTE_ADDR": "10.0.0.2"}).text
    assert seen == {0: "10.0.0.2", 1: "203.0.113.9"}  # the forged first hop is never believed


def test_a_rate_limit_refusal_is_counted(app, client):
    before = metrics().rate_limited.labels("/api/v1/verifications")._value.get()
    answers = [client.get("/api/v1/verifications", query_string={"e_ticket_number": "x"}).status_code
               for _ in range(25)]
    assert 429 in answers
    assert metrics().rate_limited.labels("/api/v1/verifications")._value.get() > before


def test_a_job_runs_under_the_request_id_that_enqueued_it(app, redis_client, captured):
    queue = Queue("observability-test", connection=redis_client)
    with app.test_request_context("/api/v1/orders"):
        app.preprocess_request()
        from flask import g
        rid = g.request_id
        job = observed_jobs.enqueue(queue, log_inside_a_job)
    assert job.meta["request_id"] == rid
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        observed_jobs.RequestIdWorker([queue], connection=redis_client).work(burst=True)
    finally:  # the worker installs its own handlers in this process; later tests signal their children
        for sig, handler_ in handlers.items():
            signal.signal(sig, handler_)
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert any(line["message"] == "inside the job" and line["request_id"] == rid for line in lines)
