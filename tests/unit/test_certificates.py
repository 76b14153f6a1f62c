"""The rules of certificates: treasury delay in working days, numbers, issue and re-issue, ranges."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.certificates import (SHANGHAI, Certificate, PostedPayment, add_working_days, certificate_number,
                                     date_range, looks_like_certificate_number, new_certificate, period_range,
                                     plan_certificates, reissue, tax_authority_name, treasury_date)
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.model import Assessment

MONDAY = date(2026, 11, 23)


def posted(payment_id: int, posted_at: datetime, *, month: int = 9, state: str = "paid", region: str = "370200",
           certified: bool = False, amount_fen: int = 100000) -> PostedPayment:
    a = Assessment(enrollment_id=1, person_id=7, insurance="pension", region=region,
                   period_start=date(2026, month, 1), period_end=date(2026, month, 28), amount_fen=amount_fen,
                   kind="regular", notice_number="N1", state=state, id=payment_id)
    return PostedPayment(payment_id=payment_id, e_ticket_number=f"3{payment_id:019d}", amount_fen=amount_fen,
                         posted_at=posted_at, assessment=a, order_no="O1", channel="api", provider="fake",
                         method="qr", payer_person_id=7, category="flexible", certified=certified)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@pytest.mark.parametrize("start, days, expected", [
    (MONDAY, 3, date(2026, 11, 26)),  # Monday + 3 → Thursday
    (date(2026, 11, 26), 3, date(2026, 12, 1)),  # Thursday + 3 skips the weekend → Tuesday
    (date(2026, 11, 28), 3, date(2026, 12, 2)),  # posted on a Saturday: counting starts Monday
    (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday + 1 → Monday
    (MONDAY, 0, MONDAY),
])
def test_working_days_skip_weekends(start, days, expected):
    assert add_working_days(start, days) == expected


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(min_value=1, max_value=30))
def test_adding_working_days_lands_on_a_weekday_with_exactly_that_many_weekdays_between(start, days):
    end = add_working_days(start, days)
    assert end.weekday() < 5
    between = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert sum(d.weekday() < 5 for d in between) == days


def test_the_treasury_day_counts_from_the_posting_day_in_shanghai():
    # 17:30 UTC on Friday is already Saturday 01:30 in Shanghai
    friday_evening_utc = datetime(2026, 11, 27, 17, 30, tzinfo=timezone.utc)
    assert treasury_date(friday_evening_utc, 3) == date(2026, 12, 2)
    assert treasury_date(at(MONDAY), 3) == date(2026, 11, 26)


def test_certificate_numbers_carry_region_date_serial_and_a_check_digit():
    number = certificate_number("370200", date(2026, 11, 26), 15)
    assert number.startswith("370200261126") and number[12:20] == "00000015" and len(number) == 21
    assert looks_like_certificate_number(number)
    for i in range(len(number)):
        typo = number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1:]
        assert not looks_like_certificate_number(typo)
    assert not looks_like_certificate_number(number[:-1]) and not looks_like_certificate_number("x" * 21)
    assert certificate_number("370200", date(2026, 11, 26), 10 ** 8 + 15)[12:20] == "00000015"


def test_a_tax_authority_is_named_after_its_region():
    assert tax_authority_name("青岛市") == "国家税务总局青岛市税务局"
    assert tax_authority_name("西藏自治区") == "国家税务总局西藏自治区税务局"


def test_payments_in_the_treasury_are_certified_and_the_others_wait_with_their_day():
    early, late = posted(1, at(MONDAY)), posted(2, at(date(2026, 11, 25)), month=10)
    plan = plan_certificates([early, late], date(2026, 11, 26), 3)
    assert plan.ready_by_region == {"370200": [early]}
    assert plan.pending == [(late, date(2026, 11, 30))]


def test_nothing_in_the_treasury_yet_says_from_which_day():
    with pytest.raises(Conflict) as err:
        plan_certificates([posted(1, at(MONDAY)), posted(2, at(date(2026, 11, 24)))], MONDAY, 3)
    assert err.value.code == "not_in_treasury_yet" and "2026年11月26日" in err.value.message
    assert err.value.details == {"available_on": "2026-11-26"}


def test_refunded_payments_are_not_certified_and_no_payments_is_not_found():
    with pytest.raises(NotFound) as err:
        plan_certificates([posted(1, at(MONDAY), state="refunded")], date(2026, 12, 31), 3)
    assert err.value.code == "no_posted_payments"
    with pytest.raises(NotFound):
        plan_certificates([], date(2026, 12, 31), 3)


def test_payments_already_on_an_original_point_to_reissue():
    with pytest.raises(Conflict) as err:
        plan_certificates([posted(1, at(MONDAY), certified=True)], date(2026, 12, 31), 3)
    assert err.value.code == "certificate_already_issued" and "补开" in err.value.message
    plan = plan_certificates([posted(1, at(MONDAY), certified=True), posted(2, at(MONDAY), month=10)],
                             date(2026, 12, 31), 3)
    assert [p.payment_id for p in plan.ready_by_region["370200"]] == [2]


def test_payments_of_two_regions_go_on_two_certificates():
    plan = plan_certificates([posted(1, at(MONDAY)), posted(2, at(MONDAY), region="520000")], date(2026, 12, 31), 3)
    assert sorted(plan.ready_by_region) == ["370200", "520000"]
    with pytest.raises(ValueError):
        new_certificate(7, 7, "370200", "青岛市", (date(2026, 1, 1), date(2026, 12, 31)),
                        [posted(1, at(MONDAY)), posted(2, at(MONDAY), region="520000")], at(MONDAY), "1")


def _original() -> tuple[Certificate, list[PostedPayment]]:
    payments = [posted(1, at(MONDAY), amount_fen=100000), posted(2, at(MONDAY), month=10, amount_fen=123456)]
    cert = new_certificate(7, 7, "370200", "青岛市", (date(2026, 9, 1), date(2026, 10, 31)), payments,
                           at(date(2026, 11, 26)), "0123456789")
    cert.id, cert.certificate_no = 41, "x"
    return cert, payments


def test_a_new_certificate_adds_up_its_payments_under_its_tax_authority():
    cert, _ = _original()
    assert cert.total_fen == 223456 and cert.tax_authority == "国家税务总局青岛市税务局" and not cert.is_reissue
    assert [(i.payment_id, i.amount_fen) for i in cert.items] == [(1, 100000), (2, 123456)]


def test_a_reissue_repeats_the_payments_and_links_to_the_original():
    cert, payments = _original()
    again = reissue(cert, payments, requested_by=7, issued_at=at(date(2026, 12, 3)), verification_code="999")
    assert again.is_reissue and again.reissue_of == 41 and again.certificate_no is None
    assert again.total_fen == cert.total_fen and [i.payment_id for i in again.items] == [1, 2]
    assert again.period_start == cert.period_start and again.issued_at == at(date(2026, 12, 3))
    again.id = 42
    with pytest.raises(ValueError):
        reissue(again, payments, 7, at(date(2026, 12, 4)), "1")


def test_a_certificate_whose_money_went_back_cannot_be_reissued():
    cert, payments = _original()
    payments[1].assessment.state = "refunded"
    with pytest.raises(Conflict) as err:
        reissue(cert, payments, 7, at(date(2026, 12, 3)), "1")
    assert err.value.code == "certificate_payment_refunded"


def test_date_ranges_are_at_most_a_year_and_default_to_the_year_up_to_today():
    assert date_range(None, None, MONDAY) == (MONDAY - timedelta(days=365), MONDAY)
    assert date_range(date(2026, 1, 1), date(2026, 12, 31), MONDAY) == (date(2026, 1, 1), date(2026, 12, 31))
    with pytest.raises(InvalidInput) as err:
        date_range(date(2025, 1, 1), date(2026, 1, 2), MONDAY)  # 367 days; a leap year (366) passes
    assert err.value.code == "date_range_too_long"
    with pytest.raises(InvalidInput) as err:
        date_range(date(2026, 2, 1), date(2026, 1, 1), MONDAY)
    assert err.value.code == "date_range_reversed"


def test_fee_period_ranges_take_months_or_whole_years():
    assert period_range("2026-09", "2026-11") == (date(2026, 9, 1), date(2026, 11, 30))
    assert period_range("2026", "2026") == (date(2026, 1, 1), date(2026, 12, 31))
    assert period_range("2025-12", "2026-02") == (date(2025, 12, 1), date(2026, 2, 28))
    for start, end, code in (("2026-11", "2026-09", "period_range_reversed"), ("2016-01", "2026-01",
                                                                                 "period_range_too_long"),
                             ("2026-13", "2026-12", "month_format")):
        with pytest.raises(InvalidInput) as err:
            period_range(start, end)
        assert err.value.code == code
