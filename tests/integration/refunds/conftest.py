"""Refund applications on PostgreSQL with the sandbox bank served on loopback (the debit tests' set-up)."""
from __future__ import annotations

import pytest

from tests.integration.debit.conftest import BankControl, app, bank, bank_served, zhang  # noqa: F401  (fixtures)
from tests.integration.test_lookback import declare, pay
from tests.e2e.test_api_core_flow import ZHANG

CARD = "6222020200112233446"  # passes Luhn
OTHER_CARD = "6222020200112233453"


@pytest.fixture
def zhang_paid(container, zhang):
    """张伟: three months of pension posted on Monday 2026-11-23, paid by the fake provider."""
    person_id, declared = declare(container, ZHANG, ["2026-09", "2026-10", "2026-11"], base_fen=500000,
                                  effective_month="2026-09")
    order_no = pay(container, [person_id], declared, payer=person_id)
    return person_id, declared, order_no
