"""Declaration (申报): which periods may be declared today, and what each one costs.

Flexible workers declare months (the current one as 正常缴费, past ones as 补缴 within the
policy's back-payment window); residents declare a year inside its collection window (after
the window, 补缴 only where the policy allows it). Nothing here touches storage.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from app.domain.errors import Conflict, InvalidInput
from app.domain.model import Assessment, ContributionChoice, Enrollment, choice_for
from app.domain.periods import Month
from app.domain.policy import PolicyBook

_YEAR = re.compile(r"^\d{4}$")
MAX_PERIODS_PER_DECLARATION = 60


@dataclass(frozen=True)
class Period:
    """A fee period: one month, or one whole year."""

    start: date
    end: date
    unit: str

    @property
    def label(self) -> str:
        return str(self.start.year) if self.unit == "year" else str(Month.of(self.start))


def parse_period(text: str, unit: str) -> Period:
    text = str(text).strip()
    if unit == "year":
        if not _YEAR.match(text):
            raise InvalidInput("period_format", "费款所属期应为年度，如2027", field="periods")
        year = int(text)
        return Period(date(year, 1, 1), date(year, 12, 31), "year")
    try:
        month = Month.parse(text)
    except ValueError:
        raise InvalidInput("period_format", "费款所属期应为年月，如2026-11", field="periods") from None
    last = calendar.monthrange(month.year, month.month)[1]
    return Period(month.first_day(), date(month.year, month.month, last), "month")


def period_unit_of(enrollment: Enrollment) -> str:
    return "year" if enrollment.category == "resident" else "month"


def plan_declaration(enrollment: Enrollment, periods: list[str], policies: PolicyBook,
                     choices: list[ContributionChoice], declared_starts: set[date], today: date,
                     notice_number: str) -> list[Assessment]:
    """Check every requested period and price it; all or nothing."""
    if not enrollment.is_active:
        raise Conflict("enrollment_inactive", "该参保登记已暂停或终止，不能申报", field="enrollment_id")
    if not periods:
        raise InvalidInput("periods_required", "请选择要申报的费款所属期", field="periods")
    if len(periods) > MAX_PERIODS_PER_DECLARATION:
        raise InvalidInput("too_many_periods", f"一次最多申报{MAX_PERIODS_PER_DECLARATION}个所属期", field="periods")
    unit = period_unit_of(enrollment)
    parsed = sorted({parse_period(p, unit).start: parse_period(p, unit) for p in periods}.values(),
                    key=lambda p: p.start)
    assessments = []
    for period in parsed:
        if period.start in declared_starts:
            raise Conflict("period_already_declared", f"{period.label}已申报，请勿重复申报", field="periods",
                           period=period.label)
        if period.start < enrollment.start_month.first_day() and unit == "month":
            raise InvalidInput("period_before_enrollment", f"{period.label}早于参保开始时间，不能申报",
                               field="periods", period=period.label)
        if unit == "month" and Month.of(period.start) > Month.of(today):
            raise InvalidInput("period_in_future", f"{period.label}尚未到缴费期，不能提前申报", field="periods")
        policy = policies.get(enrollment.region, period.start.year, enrollment.insurance, enrollment.category)
        kind = kind_for(period, policy.collection_start, policy.collection_end, policy.back_payment_months, today)
        choice = None
        if policy.scheme != "fixed":
            choice = choice_for(choices, Month.of(period.start))
            if choice is None:
                what = "缴费基数" if policy.scheme == "base" else "缴费档次"
                raise Conflict("choice_required", f"{period.label}尚未确认{what}，请先选择{what}",
                               field="periods", period=period.label)
        charge = policy.amount_per_period(choice.base_fen if choice else None, choice.grade_code if choice else None)
        assessments.append(Assessment(
            enrollment_id=enrollment.id, person_id=enrollment.person_id, insurance=enrollment.insurance,
            region=enrollment.region, period_start=period.start, period_end=period.end,
            amount_fen=charge.amount_fen, kind=kind, notice_number=notice_number,
            base_fen=charge.base_fen, rate=str(charge.rate) if charge.rate is not None else None,
            grade_code=charge.grade_code, choice_id=choice.id if choice else None,
            subsidy_fen=policy.subsidy_fen))
    return assessments


def kind_for(period: Period, window_start: date, window_end: date, back_months: int, today: date) -> str:
    """正常缴费 inside the window, 补缴 after it within the back-payment months; else refused."""
    if period.unit == "month":
        current = Month.of(today)
        month = Month.of(period.start)
        if month == current:
            return "regular"
        if month.months_until(current) <= back_months:
            return "back"
        raise InvalidInput("back_payment_window_closed",
                           f"{period.label}已超过可补缴期限（{back_months}个月），请到办税服务厅咨询",
                           field="periods", period=period.label)
    if today < window_start:
        raise InvalidInput("collection_not_open", f"{period.label}年度缴费期尚未开始（{window_start}开始）",
                           field="periods", period=period.label)
    if today <= window_end:
        return "regular"
    if back_months and Month.of(window_end).months_until(Month.of(today)) <= back_months:
        return "back"
    raise InvalidInput("collection_closed", f"{period.label}年度集中缴费期已结束（{window_end}截止）",
                       field="periods", period=period.label)
