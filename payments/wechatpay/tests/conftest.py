"""Fixtures for the WeChat Pay adapter tests: keys once per session, one sandbox gateway and one
notification receiver per session (stopping a served app costs half a second), both reset
before each test so every test starts from empty books and no faults."""
from __future__ import annotations

import pytest

from payments.sandbox.common import ServedApp
from payments.sandbox.wechatpay.keys import SandboxKeys
from payments.wechatpay.testing import sandboxed_provider
from payments.wechatpay.tests.helpers import Receiver


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("keys")
    SandboxKeys.ensure(path)
    return path


@pytest.fixture(scope="session")
def keys(key_dir) -> SandboxKeys:
    return SandboxKeys.ensure(key_dir)


@pytest.fixture(scope="session")
def shared_sandbox(key_dir):
    with sandboxed_provider(key_dir) as setup:
        yield setup


@pytest.fixture(scope="session")
def shared_receiver(shared_sandbox):
    receiver = Receiver(shared_sandbox.provider)
    with ServedApp(receiver.wsgi_app()) as served:
        receiver.url = served.url + "/notify"
        yield receiver


@pytest.fixture
def sandbox(shared_sandbox):
    shared_sandbox.client.reset()
    return shared_sandbox


@pytest.fixture
def provider(sandbox):
    return sandbox.provider


@pytest.fixture
def receiver(sandbox, shared_receiver):
    shared_receiver.clear()
    return shared_receiver
