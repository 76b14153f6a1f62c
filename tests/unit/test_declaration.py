"""Which periods may be declared, and at what price."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from app.adapters.policy_files import load_policy_book
from app.domain.declaration import plan_declaration
from app.domain.errors import Conflict, InvalidInput
from app.domain.model import ContributionChoice, Enrollment
from app.domain.periods import Month
from config.settings import ROOT

BOOK = load_policy_book(ROOT / "config" / "policies")
TODAY = date(2026, 11, 23)


def flexible(region="370200", start="2020-01"):
    return Enrollment(id=1, person_id=1, insurance="pension", region=region, category="flexible",
                      insured_number="x", start_month=Month.parse(start))


def base_choice(month="2025-01", base_fen=398000):
    return ContributionChoice(id=7, enrollment_id=1, effective_month=Month.parse(month), base_fen=base_fen,
                              created_at=datetime(2025, 1, 1))


def plan(enrollment, periods, choices=(), declared=(), today=TODAY):
    return plan_declaration(enrollment, list(periods), BOOK, list(choices), set(declared), today, "N1")


def test_current_month_is_regular_and_past_months_are_back_payment():
    items = plan(flexible(), ["2026-11", "2026-10"], [base_choice()])
    assert [(a.period_start, a.kind) for a in items] == [(date(2026, 10, 1), "back"), (date(2026, 11, 1), "regular")]
    assert all(a.amount_fen == 79600 and a.choice_id == 7 for a in items)


def test_cannot_declare_a_future_month():
    with pytest.raises(InvalidInput) as err:
        plan(flexible(), ["2026-12"], [base_choice()])
    assert err.value.code == "period_in_future"


def test_back_payment_only_inside_the_policy_window():
    plan(flexible(), ["2025-11"], [base_choice()])  # 12 months back: allowed
    with pytest.raises(InvalidInput) as err:
        plan(flexible(), ["2025-10"], [base_choice()])
    assert err.value.code == "back_payment_window_closed"


def test_cannot_declare_twice_for_same_period():
    with pytest.raises(Conflict) as err:
        plan(flexible(), ["2026-11"], [base_choice()], declared=[date(2026, 11, 1)])
    assert err.value.code == "period_already_declared"


def test_a_base_must_be_chosen_first():
    with pytest.raises(Conflict) as err:
        plan(flexible(), ["2026-11"])
    assert err.value.code == "choice_required"


def test_the_choice_in_force_is_the_latest_effective_one():
    later = ContributionChoice(id=8, enrollment_id=1, effective_month=Month.parse("2026-11"), base_fen=500000)
    items = plan(flexible(), ["2026-10", "2026-11"], [base_choice(), later])
    assert [a.base_fen for a in items] == [398000, 500000]


def test_voided_choices_do_not_count():
    voided = base_choice()
    voided.voided_at = datetime(2026, 1, 1)
    with pytest.raises(Conflict):
        plan(flexible(), ["2026-11"], [voided])


def test_resident_medical_is_a_fixed_yearly_amount_in_its_window():
    resident = Enrollment(id=2, person_id=1, insurance="medical", region="520000", category="resident",
                          insured_number="y", start_month=Month(2015, 1))
    (item,) = plan(resident, ["2027"])
    assert (item.period_start, item.period_end, item.amount_fen, item.kind) == (
        date(2027, 1, 1), date(2027, 12, 31), 42000, "regular")
    with pytest.raises(InvalidInput) as err:
        plan(resident, ["2026"], today=date(2026, 7, 1))
    assert err.value.code == "collection_closed"


def test_inactive_enrollments_cannot_declare():
    e = flexible()
    e.status = "suspended"
    with pytest.raises(Conflict):
        plan(e, ["2026-11"], [base_choice()])


def test_periods_before_enrollment_are_refused():
    with pytest.raises(InvalidInput) as err:
        plan(flexible(start="2026-06"), ["2026-05"], [base_choice()])
    assert err.value.code == "period_before_enrollment"


def test_malformed_periods_are_refused():
    with pytest.raises(InvalidInput) as err:
        plan(flexible(), ["2026-13"], [base_choice()])
    assert err.value.code == "period_format"
