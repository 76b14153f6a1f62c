"""Money rounding and the shipped policy tables."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.adapters.policy_files import load_policy_book
from app.domain.errors import InvalidInput
from app.domain.money import contribution_fen, fen_from_yuan, yuan
from app.domain.policy import policy_from_dict
from config.settings import ROOT

BOOK = load_policy_book(ROOT / "config" / "policies")


def test_half_a_fen_rounds_up_once():
    assert contribution_fen(398025, Decimal("0.2")) == 79605  # 79605.0
    assert contribution_fen(12345, Decimal("0.095")) == 1173  # 1172.775 -> 1173
    assert contribution_fen(10, Decimal("0.05")) == 1  # 0.5 -> 1, not banker's 0


def test_float_rates_are_refused():
    with pytest.raises(TypeError):
        contribution_fen(398000, 0.2)


@given(st.integers(min_value=0, max_value=10 ** 9), st.decimals(min_value=0, max_value=1, places=4))
def test_amount_equals_base_times_rate_to_the_fen(base_fen, rate):
    amount = contribution_fen(base_fen, rate)
    exact = Decimal(base_fen) * rate
    assert abs(Decimal(amount) - exact) <= Decimal("0.5")
    assert amount == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@given(st.integers(min_value=-10 ** 12, max_value=10 ** 12))
def test_yuan_strings_round_trip_exactly(fen):
    assert fen_from_yuan(yuan(fen)) == fen


def test_qingdao_flexible_pension_range_is_the_seeds():
    policy = BOOK.get("370200", 2026, "pension", "flexible")
    assert (policy.base_min_fen, policy.base_max_fen) == (398000, 1989900)
    policy.check_base(398000)
    policy.check_base(1989900)
    for outside in (397900, 1990000):
        with pytest.raises(InvalidInput) as err:
            policy.check_base(outside)
        assert err.value.code == "base_out_of_range"


def test_every_shipped_number_names_its_source():
    for policy in BOOK.all():
        assert policy.sources, policy.key
        for name, source in policy.sources.items():
            assert "seed" in source or "demo value" in source, (policy.key, name)


def test_a_policy_number_without_a_source_is_refused():
    with pytest.raises(ValueError, match="no source"):
        policy_from_dict({"region": "1", "region_name": "x", "year": 2026, "insurance": "pension",
                          "category": "resident", "scheme": "fixed", "period_unit": "year",
                          "collection_start": "2026-01-01", "collection_end": "2026-12-31",
                          "fixed_amount_fen": 100})


def test_percentage_grades_price_from_the_average_wage():
    policy = BOOK.get("520000", 2026, "pension", "flexible")
    charge = policy.amount_per_period(grade_code="1")  # 60% of 7000 元 at 20%
    assert (charge.base_fen, charge.amount_fen) == (420000, 84000)


def test_three_regions_ship_their_tables():
    keys = {(p.region_name, p.insurance, p.category) for p in BOOK.all()}
    assert {("青岛市", "pension", "flexible"), ("青岛市", "medical", "flexible"),
            ("贵州省", "pension", "flexible"), ("贵州省", "pension", "resident"), ("贵州省", "medical", "resident"),
            ("西藏自治区", "pension", "resident"), ("西藏自治区", "medical", "resident"),
            ("西藏自治区", "pension", "flexible")} <= keys


def test_late_fee_is_daily_on_the_overdue_amount():
    from datetime import date

    rule = BOOK.get("540000", 2026, "pension", "flexible").late_fee
    assert rule.fee_fen(100000, date(2026, 1, 31), date(2026, 3, 1)) == 1450  # 29 days × 0.05%
    assert rule.fee_fen(100000, date(2026, 1, 31), date(2026, 1, 31)) == 0


def test_a_table_with_a_late_fee_prices_an_overdue_period_by_the_day():
    from datetime import date

    from app.domain.late_fees import late_fee_for
    from app.domain.model import Assessment

    october = Assessment(enrollment_id=1, person_id=1, insurance="pension", region="540000",
                         period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), amount_fen=112000,
                         kind="back", notice_number="N1", id=7)
    fee = late_fee_for(october, "flexible", BOOK, date(2026, 11, 23))
    assert (fee.amount_fen, fee.days, fee.due) == (1288, 23, date(2026, 10, 31))  # 112000 × 23 × 0.05%
    assert late_fee_for(october, "flexible", BOOK, date(2026, 11, 24)).amount_fen == 1344  # a day later, again
    assert late_fee_for(october, "flexible", BOOK, date(2026, 10, 31)).amount_fen == 0  # paid when due


def test_no_late_fee_where_the_table_sets_none_or_exempts_the_kind():
    from dataclasses import replace
    from datetime import date

    from app.domain.late_fees import late_fee_for
    from app.domain.model import Assessment

    qingdao = Assessment(enrollment_id=1, person_id=1, insurance="pension", region="370200",
                         period_start=date(2026, 6, 1), period_end=date(2026, 6, 30), amount_fen=79600,
                         kind="back", notice_number="N2", id=8)
    assert late_fee_for(qingdao, "flexible", BOOK, date(2026, 11, 23)).amount_fen == 0
    special = replace(qingdao, region="540000", kind="special", amount_fen=112000)
    assert late_fee_for(special, "flexible", BOOK, date(2026, 11, 23)).amount_fen == 0


def test_a_late_fee_rounds_once_half_up_to_the_fen():
    from datetime import date

    rule = BOOK.get("540000", 2026, "pension", "flexible").late_fee
    assert rule.fee_fen(101, date(2026, 1, 31), date(2026, 2, 10)) == 1  # 101 × 10 × 0.0005 = 0.505 → 1
    assert rule.fee_fen(99, date(2026, 1, 31), date(2026, 2, 10)) == 0  # 0.495 → 0
