"""Fixtures for the bank counter tests."""
from __future__ import annotations

import pytest

from payments.counter.provider import CounterProvider
from payments.counter.tests.helpers import NOW, SECRET


@pytest.fixture
def provider() -> CounterProvider:
    return CounterProvider(bank_keys={"ccb": SECRET, "icbc": "icbc-shared-secret"},
                           voucher_base_url="https://sbf.example.cn/vouchers/", now=lambda: NOW)
