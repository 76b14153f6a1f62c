"""A missing next-year policy table is reported ahead, by the domain and by `flask policies check`."""
from __future__ import annotations

from datetime import date, datetime

from app.adapters.clock import FixedClock
from app.adapters.policy_files import load_policy_book
from app.domain.periods import SHANGHAI
from tests.timeline import POLICY_SOURCE


def test_the_shipped_tables_cover_the_sixty_days_after_our_fixed_day():
    assert load_policy_book(POLICY_SOURCE).missing_ahead(date(2026, 12, 2), 60) == []


def test_a_year_whose_collection_opens_within_the_window_and_has_no_table_is_named():
    missing = load_policy_book(POLICY_SOURCE).missing_ahead(date(2027, 11, 10), 60)
    named = {(m.region, m.year, m.insurance, m.category) for m in missing}
    assert ("370200", 2028, "pension", "flexible") in named
    assert ("540000", 2028, "pension", "flexible") in named
    assert all(m.opens <= date(2028, 1, 9) for m in missing)


def test_resident_medical_is_needed_from_its_september_collection_start():
    missing = load_policy_book(POLICY_SOURCE).missing_ahead(date(2027, 7, 15), 60)
    assert {(m.region, m.year, m.insurance) for m in missing} == {("520000", 2028, "medical"),
                                                                  ("540000", 2028, "medical")}


def test_the_cli_check_exits_non_zero_and_names_what_is_missing(app):
    app.extensions["sbf"].clock = FixedClock(datetime(2027, 11, 10, 9, 0, tzinfo=SHANGHAI))
    result = app.test_cli_runner().invoke(args=["policies", "check", "--ahead", "60d"])
    assert result.exit_code == 1
    assert "青岛市(370200) 2028年度 pension/flexible" in result.output


def test_the_cli_check_passes_when_every_table_is_there(app):
    app.extensions["sbf"].clock = FixedClock(datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI))
    result = app.test_cli_runner().invoke(args=["policies", "check", "--ahead", "60d"])
    assert result.exit_code == 0, result.output
