"""The service's two measured paths: the full pay flow, and provider notifications alone.

Full pay flow, per resident: identify → declare the year → create a WeChat Pay Native order (the
service opens it at the sandbox gateway, RSA-signed both ways) → the payer pays at the sandbox
(``/_control/orders/<no>/pay``, what its cashier page does) → the sandbox sends its encrypted,
signed notification to the service, which verifies and posts. A flow ends when its order is
posted: its latency runs from the first request to the order's ``posted_at``, read back from the
database after the phase (the same machine, the same clock), so nobody polls the service.

Notifications alone: orders already paying (made set-based, as ``create_order`` leaves them);
their notifications are built exactly as the sandbox builds them — its ledger, its keys, its
``notification_body`` and ``signed_headers`` — then replayed at the service: at saturation
(each order's first notification: it posts), again (all duplicates: they change nothing), and
at half the saturation rate, open loop, for the latency.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from datetime import datetime
from pathlib import Path

import psycopg

from bench.load import Http, Stats, closed_loop, expect, open_loop
from bench.sandboxes import install_key_cache
from payments.sandbox.wechatpay.keys import SandboxKeys, notification_body, signed_headers
from payments.sandbox.wechatpay.ledger import SHANGHAI, Ledger, Order

JSON = {"Content-Type": "application/json"}
# the flow's steps as the payer's side sees them; the last is the sandbox's signed notification, from the
# payment's answer to the order's posted_at (read from the database)
STEPS = ("identify", "declare", "order (prepay at the sandbox included)", "pay at the sandbox")
NOTIFIED = "notification → posted"
NOTIFY_PATH = "/api/v1/notify/wechatpay"


class PayFlow:
    """One resident's full pay flow, as a load task; remembers when each order was paid for."""

    def __init__(self, sandbox_url: str, year: int):
        self.sandbox_url, self.year = sandbox_url, year
        self.started: dict[str, float] = {}  # order_no → wall-clock start of its flow
        self.paid: dict[str, float] = {}  # order_no → when the sandbox answered the payment (its notification follows)
        self.steps: dict[str, list[float]] = {step: [] for step in STEPS}  # seconds of each request of the flow
        self._lock = threading.Lock()
        self._local = threading.local()

    def task(self, name: str, id_number: str):
        def run(client: Http) -> None:
            begun = time.time()
            ident = json.loads(expect(*client.request("POST", "/api/v1/identifications", _json(
                {"name": name, "id_type": "resident_id", "id_number": id_number}), JSON), 201))
            identified = time.time()
            headers = {**JSON, "X-Session-Token": ident["token"]}
            enrollment = ident["enrollments"][0]["id"]
            declared = json.loads(expect(*client.request(
                "POST", f"/api/v1/enrollments/{enrollment}/declarations", _json({"periods": [str(self.year)]}),
                headers), 201))
            declared_at = time.time()
            order = json.loads(expect(*client.request("POST", "/api/v1/orders", _json(
                {"assessment_ids": [a["id"] for a in declared["assessments"]], "method": "wechatpay.native",
                 "confirmed_amount_fen": declared["total_fen"]}), headers), 201))
            ordered = time.time()
            expect(*self._sandbox().request("POST", f"/_control/orders/{order['order_no']}/pay", b"{}", JSON), 200)
            paid = time.time()
            with self._lock:
                self.started[order["order_no"]], self.paid[order["order_no"]] = begun, paid
                for step, seconds in zip(STEPS, (identified - begun, declared_at - identified, ordered - declared_at,
                                                 paid - ordered)):
                    self.steps[step].append(seconds)

        return run

    def _sandbox(self) -> Http:
        if not hasattr(self._local, "http"):
            self._local.http = Http(self.sandbox_url)
        return self._local.http


def run_pay_flows(base_url: str, sandbox_url: str, conninfo: str, people: list[tuple[str, str]], year: int,
                  concurrency: int, time_limit: float, settle_timeout: float = 60.0) -> dict:
    """Drive full pay flows until the people or the time run out; wait for the last posting."""
    flow = PayFlow(sandbox_url, year)
    client_side = closed_loop(base_url, (flow.task(n, i) for n, i in people), concurrency, time_limit)
    posted = _wait_posted(conninfo, list(flow.started), settle_timeout)
    stats = Stats(failures=client_side.failures)
    for order_no, at in posted.items():
        stats.ok(at - flow.started[order_no])
    if posted:
        stats.elapsed = max(posted.values()) - min(flow.started[o] for o in posted)
    summary = stats.summary()
    steps = {step: _latency(flow.steps[step]) for step in STEPS}
    steps[NOTIFIED] = _latency([at - flow.paid[order_no] for order_no, at in posted.items()])
    summary.update(paid_at_sandbox=len(flow.started), posted=len(posted),
                   client_steps=client_side.summary(), steps=steps)
    return summary


def _latency(seconds: list[float]) -> dict:
    """p50 and p99 (ms) of one step of the flow."""
    stats = Stats(latencies=list(seconds))
    return {"count": stats.count, "p50_ms": stats.summary()["p50_ms"], "p99_ms": stats.summary()["p99_ms"]}


def _wait_posted(conninfo: str, order_nos: list[str], timeout: float) -> dict[str, float]:
    """order_no → posted_at (epoch seconds) once every order is posted, or what is posted at the timeout."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while True:
            rows = conn.execute("SELECT order_no, posted_at FROM payment_order WHERE order_no = ANY(%s) "
                                "AND state = 'posted'", (order_nos,)).fetchall()
            if len(rows) == len(order_nos) or time.monotonic() > deadline:
                return {no: at.timestamp() for no, at in rows}
            time.sleep(0.2)


def build_notifications(key_dir: Path, order_nos: list[str], amount_fen: int, notify_url: str) -> list:
    """(headers, body) of each order's payment notification, signed now with the sandbox's keys."""
    install_key_cache()  # the sandbox's own signing, without reloading its key every time
    keys = SandboxKeys.ensure(Path(key_dir) / "wechatpay")
    ledger = Ledger()
    now = datetime.now(SHANGHAI)
    built = []
    for order_no in order_nos:
        ledger.open_order(Order(out_trade_no=order_no, appid=keys.appid, mchid=keys.mchid,
                                description="社保费缴费-医疗", total=amount_fen, trade_type="NATIVE",
                                notify_url=notify_url, prepay_id="wx" + secrets.token_hex(14), created_at=now))
        paid, _ = ledger.pay(order_no, now)
        body = notification_body(keys, "TRANSACTION.SUCCESS", "支付成功", "transaction", paid.as_transaction())
        built.append(({**signed_headers(keys, body), **JSON}, body.encode("utf-8")))
    return built


def _notify_task(headers: dict, body: bytes):
    def run(client: Http) -> None:
        expect(*client.request("POST", NOTIFY_PATH, body, headers), 204)

    return run


def saturate(base_url: str, notifications: list, concurrency: int, time_limit: float) -> Stats:
    return closed_loop(base_url, [_notify_task(h, b) for h, b in notifications], concurrency, time_limit)


def at_rate(base_url: str, notifications: list, rate: float, concurrency: int) -> Stats:
    return open_loop(base_url, [_notify_task(h, b) for h, b in notifications], rate, concurrency)


def bare_requests(base_url: str, count: int, concurrency: int, time_limit: float) -> Stats:
    """``GET /healthz`` ``count`` times: what the web stack costs a request that does nothing."""
    def run(client: Http) -> None:
        expect(*client.request("GET", "/healthz"), 200)

    return closed_loop(base_url, [run] * count, concurrency, time_limit)


def count_posted(conninfo: str, order_nos: list[str]) -> int:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM payment_order WHERE order_no = ANY(%s) AND state = 'posted'",
                            (order_nos,)).fetchone()[0]


def _json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")
