"""Enrollments (参保登记) and contribution choices (缴费基数 / 缴费档次): list, preview, choose, void."""
from __future__ import annotations

from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.model import ContributionChoice, Enrollment, choice_exists, choice_for
from app.domain.money import yuan
from app.domain.periods import Month
from app.domain.policy import Policy, PolicyBook
from app.services.ports import Clock, UnitOfWork
from app.services.views import choice_view, enrollment_view

ENROLLMENT_NOT_FOUND = ("enrollment_not_found", "未找到该参保登记信息")
CHOICE_AHEAD_MONTHS = 12


def owned_enrollment(uow: UnitOfWork, person_id: int, enrollment_id: int) -> Enrollment:
    """The enrollment if it belongs to the person; someone else's reads as not found."""
    enrollment = uow.enrollments.get(enrollment_id)
    if enrollment is None or enrollment.person_id != person_id:
        raise NotFound(*ENROLLMENT_NOT_FOUND, field="enrollment_id")
    return enrollment


def list_enrollments(person_id: int, uow: UnitOfWork) -> list[dict]:
    """The person's enrollments."""
    with uow:
        return [enrollment_view(e) for e in uow.enrollments.list_for_person(person_id)]


def show_enrollment(person_id: int, enrollment_id: int, uow: UnitOfWork, policies: PolicyBook,
                    clock: Clock) -> dict:
    """One enrollment with its choices and the base or grade in force this period."""
    with uow:
        enrollment = owned_enrollment(uow, person_id, enrollment_id)
        choices = uow.choices.list_for_enrollment(enrollment.id)
        in_use = {c.id for c in choices if not c.is_voided and uow.assessments.count_live_for_choice(c.id)}
    current = choice_for(choices, Month.of(clock.today()))
    view = enrollment_view(enrollment)
    # a base already declared cannot be voided (基数作废) until its declarations are voided
    view["choices"] = [{**choice_view(c), "in_use": c.id in in_use} for c in choices]
    view["current_choice"] = choice_view(current) if current else None
    return view


def _policy_now(enrollment: Enrollment, policies: PolicyBook, clock: Clock, year: int | None) -> Policy:
    if year is None:
        today = clock.today()
        year = today.year
        # residents pay for the coming year once its window is open (e.g. from September)
        upcoming = policies.find(enrollment.region, year + 1, enrollment.insurance, enrollment.category)
        if enrollment.category == "resident" and upcoming and upcoming.collection_start <= today:
            year += 1
    return policies.get(enrollment.region, year, enrollment.insurance, enrollment.category)


def contribution_options(person_id: int, enrollment_id: int, uow: UnitOfWork, policies: PolicyBook,
                         clock: Clock, year: int | None = None, base_fen: int | None = None,
                         grade: str | None = None) -> dict:
    """The allowed base range or grades of a year, with a preview of the amount for a base or grade."""
    with uow:
        enrollment = owned_enrollment(uow, person_id, enrollment_id)
    policy = _policy_now(enrollment, policies, clock, year)
    per_year = policy.periods_per_year()
    options = {"enrollment_id": enrollment.id, "year": policy.year, "scheme": policy.scheme,
               "period_unit": policy.period_unit, "title": policy.title, "region_name": policy.region_name,
               "rate": str(policy.rate) if policy.rate is not None else None,
               "personal_account_rate": str(policy.personal_account_rate) if policy.personal_account_rate else None,
               "base_min_fen": policy.base_min_fen, "base_max_fen": policy.base_max_fen,
               "fixed_amount_fen": policy.fixed_amount_fen, "subsidy_fen": policy.subsidy_fen,
               "collection_start": policy.collection_start.isoformat(),
               "collection_end": policy.collection_end.isoformat(),
               "back_payment_months": policy.back_payment_months, "grades": [], "preview": None}
    for g in policy.grades:
        charge = policy.amount_per_period(grade_code=g.code)
        options["grades"].append({"code": g.code, "label": g.label, "base_fen": charge.base_fen,
                                  "amount_fen": charge.amount_fen, "amount_per_year_fen": charge.amount_fen * per_year})
    if base_fen is not None or grade is not None or policy.scheme == "fixed":
        charge = policy.amount_per_period(base_fen, grade)
        options["preview"] = {"base_fen": charge.base_fen, "grade": charge.grade_code,
                              "amount_per_period_fen": charge.amount_fen,
                              "amount_per_year_fen": charge.amount_fen * per_year,
                              "amount_per_period_yuan": yuan(charge.amount_fen)}
    return options


def choose_contribution(person_id: int, enrollment_id: int, uow: UnitOfWork, policies: PolicyBook,
                        clock: Clock, base_fen: int | None = None, grade: str | None = None,
                        effective_month: str | None = None, batch_debit_allowed: bool = False) -> dict:
    """Confirm a base or grade from an effective month (基数确认)."""
    today = clock.today()
    month = Month.of(today) if not effective_month else _parse_month(effective_month)
    with uow:
        enrollment = owned_enrollment(uow, person_id, enrollment_id)
        if not enrollment.is_active:
            raise Conflict("enrollment_inactive", "该参保登记已暂停或终止，不能选择缴费基数")
        if enrollment.category == "resident":
            month = Month(month.year, 1)  # a resident's grade holds for the whole year
        policy = policies.get(enrollment.region, month.year, enrollment.insurance, enrollment.category)
        if policy.scheme == "fixed":
            raise InvalidInput("choice_not_applicable", "该险种按固定标准缴费，无需选择缴费基数或档次")
        _check_effective_month(month, Month.of(today), policy, enrollment)
        charge = policy.amount_per_period(base_fen if policy.scheme == "base" else None,
                                          grade if policy.scheme == "grade" else None)
        choices = uow.choices.list_for_enrollment(enrollment.id)
        if any(not c.is_voided and c.effective_month == month for c in choices):
            raise choice_exists(month)
        choice = uow.choices.add(ContributionChoice(
            enrollment_id=enrollment.id, effective_month=month, base_fen=charge.base_fen if policy.scheme == "base" else None,
            grade_code=charge.grade_code, batch_debit_allowed=bool(batch_debit_allowed), created_at=clock.now()))
        uow.audit.record("choice.confirmed", f"enrollment:{enrollment.id}",
                         {"choice_id": choice.id, "month": str(month)}, clock.now())
        uow.commit()
    view = choice_view(choice)
    view["amount_per_period_fen"] = charge.amount_fen
    return view


def void_choice(person_id: int, enrollment_id: int, choice_id: int, uow: UnitOfWork, clock: Clock) -> dict:
    """Void a base or grade (基数作废) so another can be chosen; refused once it is declared."""
    with uow:
        owned_enrollment(uow, person_id, enrollment_id)
        choice = next((c for c in uow.choices.list_for_enrollment(enrollment_id) if c.id == choice_id), None)
        if choice is None:
            raise NotFound("choice_not_found", "未找到该缴费基数记录", field="choice_id")
        if uow.assessments.count_live_for_choice(choice_id):
            raise Conflict("choice_in_use", "该缴费基数已用于申报，请先作废相关申报后再作废基数")
        if not uow.choices.void(choice_id, clock.now()):
            raise Conflict("choice_already_voided", "该缴费基数已作废")
        uow.audit.record("choice.voided", f"enrollment:{enrollment_id}", {"choice_id": choice_id}, clock.now())
        uow.commit()
        choice.voided_at = clock.now()
    return choice_view(choice)


def _parse_month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError:
        raise InvalidInput("month_format", "生效年月应为年月，如2026-11", field="effective_month") from None


def _check_effective_month(month: Month, current: Month, policy: Policy, enrollment: Enrollment) -> None:
    earliest = max(current.plus(-policy.back_payment_months), enrollment.start_month)
    if policy.period_unit == "year":
        earliest = Month(current.year - (1 if policy.back_payment_months else 0), 1)
    if month < earliest or month > current.plus(CHOICE_AHEAD_MONTHS):
        raise InvalidInput("effective_month_out_of_range",
                           f"生效年月应在{earliest}至{current.plus(CHOICE_AHEAD_MONTHS)}之间", field="effective_month")
