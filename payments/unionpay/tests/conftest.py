"""Fixtures: keys, one sandbox and one notify receiver per session, both reset for each test.

Stopping a served app takes about half a second, so tests share the servers and start from a
reset instead; tests that need a differently built provider start their own sandbox.
"""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from payments.sandbox.unionpay.pki import ensure_pki
from payments.unionpay.testing import sandboxed_provider

from .support import Receiver


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("unionpay-keys")
    ensure_pki(directory)
    return directory


@pytest.fixture(scope="session")
def pki(key_dir):
    return ensure_pki(key_dir)


@pytest.fixture(scope="session")
def stranger_key():
    """A key neither UnionPay nor the merchant owns."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def _shared_sandbox(key_dir):
    with sandboxed_provider(key_dir) as setup:
        yield setup


@pytest.fixture(scope="session")
def _shared_receiver(_shared_sandbox):
    with Receiver(_shared_sandbox.provider) as receiver:
        yield receiver


@pytest.fixture
def sandbox(_shared_sandbox, _shared_receiver):
    _shared_sandbox.client.reset()  # first, so no delivery of an earlier test lands after the receiver's reset
    _shared_receiver.received.clear()
    _shared_receiver.handled = True
    return _shared_sandbox


@pytest.fixture
def provider(sandbox):
    return sandbox.provider


@pytest.fixture
def receiver(sandbox, _shared_receiver):
    return _shared_receiver
