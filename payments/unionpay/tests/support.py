"""Helpers of the UnionPay tests: numbers as the core makes them, waiting, a notify receiver."""
from __future__ import annotations

import itertools
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Flask, Response, request

from payments.base import IncomingNotification, PrepayRequest, ResultState
from payments.sandbox.common import ServedApp
from tests.timeline import wall_now

SHANGHAI = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def new_number(prefix: str = "") -> str:
    """An order number as the core makes them, creation time first (refund numbers: prefix R)."""
    return f"{prefix}{wall_now():%Y%m%d%H%M%S}{next(_numbers):08d}"


def wait_until(condition, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


class Receiver:
    """Our notify URL in miniature: records what arrives, answers as the provider says."""

    def __init__(self, provider):
        self.received: list[IncomingNotification] = []
        self.handled = True
        app = Flask("unionpay-receiver")

        @app.post("/notify")
        def notify():
            self.received.append(IncomingNotification(dict(request.headers), request.get_data(),
                                                      request.content_type or ""))
            ack = provider.acknowledge(self.handled)
            return Response(ack.body, ack.status, content_type=ack.content_type)

        self._served = ServedApp(app)
        self.url = f"{self._served.url}/notify"

    def __enter__(self) -> "Receiver":
        self._served.start()
        return self

    def __exit__(self, *exc) -> None:
        self._served.stop()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[IncomingNotification]:
        wait_until(lambda: len(self.received) >= count, timeout)
        return list(self.received)


def prepay_request(order_no: str, amount_fen: int = 39800, notify_url: str = "http://127.0.0.1:9/unused",
                   method: str = "qr") -> PrepayRequest:
    return PrepayRequest(order_no=order_no, amount_fen=amount_fen, description="灵活就业人员基本养老保险",
                         method=method, notify_url=notify_url,
                         expires_at=wall_now() + timedelta(minutes=15))


def open_order(provider, amount_fen: int = 39800, notify_url: str = "http://127.0.0.1:9/unused") -> str:
    order_no = new_number()
    assert provider.prepay(prepay_request(order_no, amount_fen, notify_url)).state is ResultState.WAITING
    return order_no
