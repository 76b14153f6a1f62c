"""Fixtures: one sandbox gateway and one notification receiver per session, reset per test."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask, Response, request

from payments.alipay.testing import sandboxed_provider
from payments.base import IncomingNotification, PrepayRequest
from payments.sandbox.alipay.signing import sign_params
from payments.sandbox.common import ServedApp, ensure_rsa_key
from tests.timeline import wall_now

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("alipay-keys")


@pytest.fixture(scope="session")
def _session_sandbox(key_dir):
    with sandboxed_provider(key_dir, time_scale=0.001, timeout_seconds=3.0) as setup:
        yield setup


@pytest.fixture
def sandbox(_session_sandbox):
    """The provider wired to a clean sandbox (no trades, no faults, no deliveries)."""
    _session_sandbox.client.reset()
    return _session_sandbox


@pytest.fixture
def provider(sandbox):
    return sandbox.provider


class Receiver:
    """Our notify URL: records what arrives and answers with the provider's acknowledgement."""

    def __init__(self, provider):
        self.provider = provider
        self.handled = True
        self._received: list[IncomingNotification] = []
        self._lock = threading.Lock()
        app = Flask("alipay-test-receiver")
        app.add_url_rule("/notify", "notify", self._notify, methods=["POST"])
        self._served = ServedApp(app)
        self.url = self._served.url + "/notify"

    def _notify(self):
        incoming = IncomingNotification(headers=dict(request.headers), body=request.get_data(),
                                        content_type=request.content_type or "")
        with self._lock:
            self._received.append(incoming)
        answer = self.provider.acknowledge(self.handled)
        return Response(answer.body, answer.status, content_type=answer.content_type)

    def reset(self) -> None:
        with self._lock:
            self._received.clear()
        self.handled = True

    def of(self, order_no: str) -> list[IncomingNotification]:
        with self._lock:
            return [n for n in self._received if form(n).get("out_trade_no") == order_no]

    def wait_for(self, order_no: str, count: int = 1) -> list[IncomingNotification]:
        wait_until(lambda: len(self.of(order_no)) >= count, f"{count} notification(s) for {order_no}")
        return self.of(order_no)


@pytest.fixture(scope="session")
def _session_receiver(_session_sandbox):
    receiver = Receiver(_session_sandbox.provider)
    with receiver._served:
        yield receiver


@pytest.fixture
def receiver(_session_receiver, sandbox):
    _session_receiver.reset()
    return _session_receiver


@pytest.fixture(scope="session")
def alipay_private_key(key_dir):
    """The sandbox's Alipay key, to forge notifications that are validly signed."""
    return serialization.load_pem_private_key(ensure_rsa_key(key_dir / "alipay_platform_private.pem"), None)


@pytest.fixture(scope="session")
def stranger_pem(tmp_path_factory) -> str:
    return ensure_rsa_key(tmp_path_factory.mktemp("stranger") / "key.pem").decode()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.02)


def new_order_no() -> str:
    """Like the core's: a Beijing-time timestamp, then something unique."""
    return f"{wall_now():%Y%m%d%H%M%S}{uuid.uuid4().hex[:10]}"


def prepay_request(order_no: str, amount_fen: int, method: str = "qr",
                   notify_url: str = "http://127.0.0.1:9/notify", **extra) -> PrepayRequest:
    return PrepayRequest(order_no=order_no, amount_fen=amount_fen, description="社保费 灵活就业人员养老保险",
                         method=method, notify_url=notify_url,
                         expires_at=wall_now() + timedelta(minutes=30), **extra)


def form(incoming: IncomingNotification) -> dict[str, str]:
    return dict(parse_qsl(incoming.body.decode("utf-8"), keep_blank_values=True))


def resigned(incoming: IncomingNotification, private_key, **changes) -> IncomingNotification:
    """The notification with some fields changed and signed again with ``private_key``."""
    params = {k: v for k, v in form(incoming).items() if k not in ("sign", "sign_type")}
    params.update(changes)
    body = urlencode(sign_params(private_key, params)).encode("ascii")
    return IncomingNotification(headers=dict(incoming.headers), body=body, content_type=incoming.content_type)
