"""The contract every payment provider passes: the fake, and each real one against its sandbox.

Over real HTTP on 127.0.0.1 with the real SDK code for WeChat Pay, Alipay and UnionPay. The
bank counter takes part where a counter can: it cannot be queried or debited by a sandbox.
"""
from __future__ import annotations

import contextlib
import importlib
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest

from app.adapters.clock import RandomNumbers
from payments.base import (IncomingNotification, NotificationRejected, PaymentProvider, PrepayRequest, RefundRequest,
                           ResultState, StatementUnavailable)
from payments.fake.provider import FakeProvider
from tests.timeline import wall_now, wall_today

NUMBERS = RandomNumbers()


@dataclass
class Harness:
    provider: PaymentProvider
    method: str
    pay: Callable[[str], None] | None  # the payer confirms at the provider; None where no sandbox can


@contextlib.contextmanager
def _fake(_tmp):
    provider = FakeProvider()
    yield Harness(provider, "qr", lambda order_no: provider.pay(order_no))


def _sandboxed(code: str, method: str):
    @contextlib.contextmanager
    def make(tmp):
        testing = importlib.import_module(f"payments.{code}.testing")
        with testing.sandboxed_provider(tmp / code, time_scale=0.001) as setup:
            yield Harness(setup.provider, method, setup.client.pay)
    return make


@contextlib.contextmanager
def _counter(tmp):
    from payments.counter.provider import build

    yield Harness(build(bank_keys={"ccb": "k"}, voucher_base_url="http://127.0.0.1:1/v", bank_file_dir=str(tmp)),
                  "voucher", None)


HARNESSES = {"fake": _fake, "wechatpay": _sandboxed("wechatpay", "native"), "alipay": _sandboxed("alipay", "qr"),
             "unionpay": _sandboxed("unionpay", "qr"), "counter": _counter, "ccb": _sandboxed("ccb", "card")}


@pytest.fixture(params=sorted(HARNESSES))
def harness(request, tmp_path_factory):
    with HARNESSES[request.param](tmp_path_factory.mktemp(request.param)) as h:
        yield h


def prepay(h: Harness, amount_fen: int = 12345):
    now = wall_now()
    order_no = NUMBERS.order_no(now)
    result = h.provider.prepay(PrepayRequest(order_no=order_no, amount_fen=amount_fen, description="社保费缴费-养老",
                                             method=h.method, notify_url="http://127.0.0.1:9/notify",
                                             expires_at=now + timedelta(minutes=30)))
    return order_no, result


def eventually(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_provider_says_who_it_is(harness):
    assert isinstance(harness.provider, PaymentProvider)
    assert harness.method in harness.provider.methods and harness.provider.code


def test_prepay_gives_the_payer_a_way_to_pay(harness):
    _, result = prepay(harness)
    assert result.state == ResultState.WAITING
    assert result.pay_url or result.qr_code or result.app_params


def test_an_unpaid_order_queries_as_waiting_and_closes(harness):
    order_no, _ = prepay(harness)
    assert harness.provider.query(order_no).state == ResultState.WAITING
    assert harness.provider.close(order_no).state == ResultState.SUCCESS


def test_a_paid_order_queries_success_with_its_amount_and_cannot_be_closed(harness):
    if harness.pay is None:  # a counter payment is learnt from the bank's confirmation, never by asking
        order_no, _ = prepay(harness, 30001)
        assert harness.provider.query(order_no).state == ResultState.WAITING
        return
    order_no, _ = prepay(harness, 30001)
    harness.pay(order_no)
    trade = eventually(lambda: (r := harness.provider.query(order_no)).state == ResultState.SUCCESS and r)
    assert trade and trade.amount_fen == 30001 and trade.provider_trade_no and trade.order_no == order_no
    closed = harness.provider.close(order_no)
    assert closed.state == ResultState.FAIL and closed.error_code == "order_paid"


def test_a_paid_order_can_be_refunded_and_the_refund_queried(harness):
    if harness.pay is None:  # a counter refund is a bank transfer, confirmed later: WAITING, never SUCCESS now
        order_no, _ = prepay(harness, 20000)
        result = harness.provider.refund(RefundRequest(order_no=order_no, refund_no="R1", amount_fen=20000,
                                                       total_fen=20000, reason="退费"))
        assert result.state == ResultState.WAITING
        assert harness.provider.query_refund(order_no, "R1").state == ResultState.WAITING
        return
    order_no, _ = prepay(harness, 20000)
    harness.pay(order_no)
    trade = eventually(lambda: (r := harness.provider.query(order_no)).state == ResultState.SUCCESS and r)
    refund_no = NUMBERS.refund_no(wall_now())
    result = harness.provider.refund(RefundRequest(order_no=order_no, refund_no=refund_no, amount_fen=20000,
                                                   total_fen=20000, reason="扣款成功但缴费失败",
                                                   provider_trade_no=trade.provider_trade_no))
    assert result.state in (ResultState.SUCCESS, ResultState.WAITING)
    settled = eventually(lambda: harness.provider.query_refund(order_no, refund_no).state == ResultState.SUCCESS)
    assert settled


def test_the_daily_statement_lists_paid_orders_in_fen(harness):
    if harness.pay is None:  # the counter's statement is the bank's daily file, which a bank drops in its directory
        with pytest.raises(StatementUnavailable):  # none has arrived: unavailable, never an empty day
            harness.provider.statement(wall_today())
        return
    order_no, _ = prepay(harness, 45678)
    harness.pay(order_no)
    eventually(lambda: harness.provider.query(order_no).state == ResultState.SUCCESS)
    lines = harness.provider.statement(wall_today())
    assert any(line.order_no == order_no and line.amount_fen == 45678 and line.kind == "payment" for line in lines)


def test_garbage_is_never_a_notification(harness):
    for body in (b"", b"{}", b"a=b&sign=xyz", b"\xff\xfe"):
        with pytest.raises(NotificationRejected):
            harness.provider.parse_notification(IncomingNotification(headers={}, body=body,
                                                                     content_type="application/json"))


def test_acknowledgements_differ_for_handled_and_not(harness):
    ok, retry = harness.provider.acknowledge(True), harness.provider.acknowledge(False)
    assert 200 <= ok.status < 300
    assert (ok.status, ok.body) != (retry.status, retry.body)
