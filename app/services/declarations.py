"""Declaration (申报) into assessments, the assessments list, and the per-period status query."""
from __future__ import annotations

from datetime import date

from app.domain.declaration import kind_for, parse_period, period_unit_of, plan_declaration
from app.domain.errors import InvalidInput, NotFound
from app.domain.model import (KIND_LABELS, LIVE_STATES, PERIOD_STATUS_LABELS, STATE_LABELS, UNDECLARED_UNPAID,
                              Enrollment, choice_for)
from app.domain.periods import Month, month_range
from app.domain.policy import PolicyBook
from app.services.enrollments import owned_enrollment
from app.services.ports import Clock, NoticeNumbers, UnitOfWork
from app.services.late_fees import unpaid_views
from app.services.views import assessment_view, enrollment_view
from app.services.lookback_views import insurance_title as assessment_view_title


def declare_periods(person_id: int, enrollment_id: int, periods: list[str], uow: UnitOfWork,
                    policies: PolicyBook, clock: Clock, notices: NoticeNumbers) -> dict:
    """Declare months or years of an enrollment: one notice, one assessment per period."""
    with uow:
        enrollment = owned_enrollment(uow, person_id, enrollment_id)
        planned = plan_declaration(enrollment, periods, policies, uow.choices.list_for_enrollment(enrollment.id),
                                   uow.assessments.live_period_starts(enrollment.id), clock.today(),
                                   notices.next(enrollment.region, clock.today()))
        now = clock.now()
        for a in planned:
            a.declared_at = now
        created = uow.assessments.add_many(planned)
        uow.audit.record("declaration.created", f"enrollment:{enrollment.id}",
                         {"notice_number": created[0].notice_number, "periods": [a.period_label for a in created]}, now)
        uow.commit()
        views = unpaid_views(uow, created, policies, clock.today())  # 补缴 of an overdue period may owe 滞纳金
    return {"notice_number": created[0].notice_number, "total_fen": sum(a.amount_fen for a in created),
            "late_fee_fen": sum(v.get("late_fee_fen", 0) for v in views),
            "amount_due_fen": sum(v.get("amount_due_fen", v["amount_fen"]) for v in views), "assessments": views}


def list_assessments(person_id: int, uow: UnitOfWork, enrollment_id: int | None = None,
                     state: str | None = None, policies: PolicyBook | None = None,
                     today: date | None = None) -> list[dict]:
    """The person's assessments, newest period first; optionally of one enrollment or state.

    Given the policies and today's date, the unpaid ones also say their late fee (滞纳金) today.
    """
    with uow:
        enrollments = _enrollments(uow, person_id, enrollment_id)
        items = [a for e in enrollments for a in uow.assessments.list_for_enrollment(e.id)]
        if state:
            items = [a for a in items if a.state == state]
        items.sort(key=lambda a: (a.period_start, a.id or 0), reverse=True)
        categories = {e.id: e.category for e in enrollments}
        if policies is not None and today is not None:
            views = unpaid_views(uow, items, policies, today)
            for view in views:  # the title keeps the category (城乡居民基本养老保险)
                view["title"] = assessment_view_title(view["insurance"], categories.get(view["enrollment_id"]))
            return views
    return [assessment_view(a, categories.get(a.enrollment_id)) for a in items]


def payment_status(person_id: int, uow: UnitOfWork, policies: PolicyBook, clock: Clock,
                   enrollment_id: int | None = None, notice_number: str | None = None,
                   start: str | None = None, end: str | None = None) -> dict:
    """缴费情况查询: each period as 已缴纳, 未支付 (declared, unpaid) or 未缴费 (not declared)."""
    today = clock.today()
    with uow:
        if notice_number:
            found = [a for a in uow.assessments.list_by_notice(notice_number) if a.person_id == person_id]
            if not found:
                raise NotFound("notice_not_found", "未查询到该告知单号的缴费信息", field="notice_number")
            if enrollment_id is not None:
                found = [a for a in found if a.enrollment_id == enrollment_id]
            rows = [_row(a.enrollment_id, a.period_label, a.state, a) for a in found]
            return _split(rows)
        rows = []
        for enrollment in _enrollments(uow, person_id, enrollment_id):
            by_start = {a.period_start: a for a in uow.assessments.list_for_enrollment(enrollment.id)
                        if a.state in LIVE_STATES and a.kind != "special"}
            window = _periods(enrollment, policies, today, start, end)
            for period_start, label in window:
                a = by_start.get(period_start)
                rows.append(_row(enrollment.id, label, a.state if a else UNDECLARED_UNPAID, a, enrollment))
            if not (start or end):  # no filter: every declared period too, however old
                shown = {period_start for period_start, _ in window}
                rows += [_row(enrollment.id, a.period_label, a.state, a, enrollment)
                         for period_start, a in sorted(by_start.items()) if period_start not in shown]
            rows += [_row(enrollment.id, a.period_label, a.state, a, enrollment)
                     for a in uow.assessments.list_for_enrollment(enrollment.id)
                     if a.kind == "special" and a.state in LIVE_STATES]
    return _split(rows)


def _enrollments(uow: UnitOfWork, person_id: int, enrollment_id: int | None) -> list[Enrollment]:
    if enrollment_id is not None:
        return [owned_enrollment(uow, person_id, enrollment_id)]
    return uow.enrollments.list_for_person(person_id)


def _periods(enrollment: Enrollment, policies: PolicyBook, today: date, start: str | None,
             end: str | None) -> list[tuple[date, str]]:
    """The periods a status query covers: those asked for, or the ones that can still matter."""
    unit = period_unit_of(enrollment)
    if unit == "year":
        years = policies.years(enrollment.region, enrollment.insurance, enrollment.category)
        first = int(start[:4]) if start else max([y for y in years if y <= today.year] or [today.year])
        last = int(end[:4]) if end else max([y for y in years if policies.get(
            enrollment.region, y, enrollment.insurance, enrollment.category).collection_start <= today] or [first])
        return [(parse_period(str(y), "year").start, str(y)) for y in range(first, last + 1)]
    try:
        first = Month.parse(start) if start else max(enrollment.start_month, Month(today.year, 1))
        last = Month.parse(end) if end else Month.of(today)
    except ValueError:
        raise InvalidInput("month_format", "查询起止年月应为年月，如2026-01", field="start") from None
    if first.months_until(last) > 120:
        raise InvalidInput("range_too_long", "一次最多查询10年", field="start")
    return [(m.first_day(), str(m)) for m in month_range(first, last)]


def _row(enrollment_id, label, state, assessment=None, enrollment=None) -> dict:
    row = {"enrollment_id": enrollment_id, "period": label, "status": "declared_unpaid" if state == "paying" else state,
           "status_label": PERIOD_STATUS_LABELS.get(state, STATE_LABELS.get(state, state)), "assessment": None}
    if assessment is not None:
        row["assessment"] = assessment_view(assessment)
    if enrollment is not None:
        row["insured_number"] = enrollment.insured_number
        row["title"] = enrollment_view(enrollment)["title"]
    return row


def _split(rows: list[dict]) -> dict:
    return {"periods": rows,
            "paid": [r for r in rows if r["status"] == "paid"],
            "declared_unpaid": [r for r in rows if r["status"] == "declared_unpaid"],
            "undeclared_unpaid": [r for r in rows if r["status"] == UNDECLARED_UNPAID]}


def declarable_periods(person_id: int, enrollment_id: int, uow: UnitOfWork, policies: PolicyBook,
                       clock: Clock) -> list[dict]:
    """The periods that could be declared today, oldest first, each with its kind (正常缴费 / 补缴) and
    whether a base or grade covers it yet (``covered``; a period without one is refused at declaring)."""
    today = clock.today()
    with uow:
        enrollment = owned_enrollment(uow, person_id, enrollment_id)
        declared = uow.assessments.live_period_starts(enrollment.id)
        choices = uow.choices.list_for_enrollment(enrollment.id)
    unit = period_unit_of(enrollment)
    if unit == "year":
        candidates = [str(y) for y in policies.years(enrollment.region, enrollment.insurance, enrollment.category)]
    else:
        current = Month.of(today)
        back = max((p.back_payment_months for p in policies.all()
                    if (p.region, p.insurance, p.category) == (enrollment.region, enrollment.insurance,
                                                               enrollment.category)), default=0)
        first = max(current.plus(-back), enrollment.start_month)
        candidates = [str(m) for m in month_range(first, current)] if first <= current else []
    periods = []
    for text in candidates:
        period = parse_period(text, unit)
        if period.start in declared:
            continue
        policy = policies.find(enrollment.region, period.start.year, enrollment.insurance, enrollment.category)
        if policy is None:
            continue
        try:
            kind = kind_for(period, policy.collection_start, policy.collection_end, policy.back_payment_months, today)
        except InvalidInput:
            continue
        covered = policy.scheme == "fixed" or choice_for(choices, Month.of(period.start)) is not None
        periods.append({"period": period.label, "kind": kind, "kind_label": KIND_LABELS[kind], "covered": covered})
    return periods
