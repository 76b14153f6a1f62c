"""The sandbox bank served on loopback with a fixed clock, and our provider pointed at it."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from app.adapters.clock import FixedClock
from payments.agreement.provider import build
from payments.sandbox.bank import create_sandbox_app, sandbox_provider_settings
from payments.sandbox.common import ServedApp


class Bank:
    """The running sandbox bank, its books, and a handle on its control switches."""

    def __init__(self, served, clock):
        self.served, self.clock, self.url = served, clock, served.url
        self.ledger = served._server.app.extensions["bank_ledger"]

    def faults(self, **switches):
        requests.post(self.url + "/_control/faults", json=switches, timeout=5).raise_for_status()

    def accounts(self, **accounts):
        requests.post(self.url + "/_control/accounts", json=accounts, timeout=5).raise_for_status()

    def counter_agreement(self, account_no, holder_name):
        answer = requests.post(self.url + "/_control/agreements", json={"account_no": account_no,
                                                                         "holder_name": holder_name}, timeout=5)
        return answer.json()["agreement_no"]


@pytest.fixture
def bank_clock():
    return FixedClock(datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))


@pytest.fixture
def bank(tmp_path, bank_clock):
    served = ServedApp(create_sandbox_app(tmp_path / "bank", clock=bank_clock)).start()
    yield Bank(served, bank_clock)
    served.stop()


@pytest.fixture
def provider(bank, tmp_path):
    return build(**sandbox_provider_settings(tmp_path / "bank", bank.url))
