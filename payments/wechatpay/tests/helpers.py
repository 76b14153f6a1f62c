"""Helpers for the WeChat Pay adapter tests: a notification receiver, waiting, requests, and a
forger of notifications signed (or mis-signed) as the platform would."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

from flask import Flask, Response, request

from payments.base import IncomingNotification, PrepayRequest
from payments.sandbox.wechatpay.keys import SandboxKeys, notification_body, signed_headers
from tests.timeline import wall_now


class Receiver:
    """Our notify URL in miniature: records each call, answers what the provider says."""

    def __init__(self, provider):
        self.provider = provider
        self.handled = True
        self.received: list[IncomingNotification] = []
        self.url = ""
        self._lock = threading.Lock()

    def wsgi_app(self) -> Flask:
        app = Flask("receiver")

        @app.post("/notify")
        def notify():
            with self._lock:
                self.received.append(IncomingNotification(headers=dict(request.headers),
                                                          body=request.get_data(),
                                                          content_type=request.content_type or ""))
            ack = self.provider.acknowledge(self.handled)
            return Response(ack.body, status=ack.status, content_type=ack.content_type)

        return app

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
        self.handled = True

    def wait_for(self, count: int, timeout: float = 5.0) -> list[IncomingNotification]:
        wait_until(lambda: len(self.received) >= count, timeout)
        with self._lock:
            return list(self.received)


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def new_order_no() -> str:
    return "T" + uuid.uuid4().hex[:20].upper()


def prepay_request(order_no: str, *, method: str = "native", amount_fen: int = 12345,
                   notify_url: str = "http://127.0.0.1:9/notify", payer_ref: str | None = None):
    return PrepayRequest(order_no=order_no, amount_fen=amount_fen, description="社保费缴纳",
                         method=method, notify_url=notify_url,
                         expires_at=wall_now() + timedelta(minutes=30),
                         payer_ref=payer_ref or ("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" if method == "jsapi"
                                                 else None))


def transaction_resource(keys: SandboxKeys, **changes) -> dict:
    resource = {"appid": keys.appid, "mchid": keys.mchid, "out_trade_no": "T0000000000000001",
                "transaction_id": "4200000123202401011234567890", "trade_type": "NATIVE",
                "trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "OTHERS",
                "success_time": "2024-01-01T10:00:00+08:00", "payer": {"openid": "oXYZ"},
                "amount": {"total": 12345, "payer_total": 12345, "currency": "CNY",
                           "payer_currency": "CNY"}}
    resource.update(changes)
    return resource


def forge(keys: SandboxKeys, resource: dict, *, event_type: str = "TRANSACTION.SUCCESS",
          timestamp: int | None = None, signing_pem: bytes | None = None,
          apiv3_key: str | None = None, serial: str | None = None) -> IncomingNotification:
    """A notification as the platform would send it, with one thing changed on request."""
    original_type = "refund" if event_type.startswith("REFUND.") else "transaction"
    body = notification_body(keys, event_type, "支付成功", original_type, resource,
                             apiv3_key=apiv3_key)
    headers = signed_headers(keys, body, timestamp=timestamp, signing_pem=signing_pem)
    if serial is not None:
        headers["Wechatpay-Serial"] = serial
    return IncomingNotification(headers=headers, body=body.encode("utf-8"),
                                content_type="application/json")
