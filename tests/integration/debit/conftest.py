"""The app on PostgreSQL with the sandbox bank served on loopback, both on the test's fixed clock."""
from __future__ import annotations

import pytest
import requests

from app.adapters.passwords import Argon2Hasher
from payments.agreement.provider import build
from payments.fake.provider import FakeProvider
from payments.sandbox.bank import create_sandbox_app, sandbox_provider_settings
from payments.sandbox.common import ServedApp
from tests.e2e.test_api_core_flow import ZHANG

CARD = "6222020200112233446"  # passes Luhn


class BankControl:
    def __init__(self, served):
        self.url = served.url
        self.ledger = served._server.app.extensions["bank_ledger"]

    def faults(self, **switches):
        requests.post(self.url + "/_control/faults", json=switches, timeout=5).raise_for_status()

    def accounts(self, **accounts):
        requests.post(self.url + "/_control/accounts", json=accounts, timeout=5).raise_for_status()

    def counter_agreement(self, account_no, holder_name):
        return requests.post(self.url + "/_control/agreements", json={"account_no": account_no,
                                                                       "holder_name": holder_name},
                             timeout=5).json()["agreement_no"]


@pytest.fixture
def bank_served(tmp_path, clock):
    served = ServedApp(create_sandbox_app(tmp_path / "bank", clock=clock)).start()
    yield served
    served.stop()


@pytest.fixture
def bank(bank_served):
    return BankControl(bank_served)


@pytest.fixture
def app(settings, database, redis_client, clock, bank_served, tmp_path):
    from app.factory import create_app
    from tests.conftest import reset_state

    methods = {**settings["CHANNEL_PAYMENT_METHODS"], "api": ["fake.qr"]}
    agreement = build(**sandbox_provider_settings(tmp_path / "bank", bank_served.url))
    app = create_app(dict(settings, CHANNEL_PAYMENT_METHODS=methods, BANK_FILE_DIR=str(tmp_path / "files")),
                     clock=clock, providers={"fake": FakeProvider(), "agreement": agreement},
                     password_hasher=Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1))
    reset_state(app, redis_client)
    yield app
    app.extensions["sbf"].engine.dispose()


@pytest.fixture
def zhang(runner, container):
    """The demo people loaded; 张伟's person id."""
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with container.uow() as uow:
        return uow.persons.find_by_document("resident_id", ZHANG["id_number"]).id
