"""What the HR and medical-security bureaus push: enrollments and special assessments (特殊缴费).

Imports are idempotent (an enrollment on its insured number, a special assessment on its
notice number and period) and report every rejected row with a code and a reason; good rows
of a batch are written together in one transaction.
"""
from __future__ import annotations

import calendar
from datetime import date
from typing import Iterable, Mapping

from app.domain.documents import normalize_document
from app.domain.errors import DomainError
from app.domain.model import Assessment, Enrollment, Person
from app.domain.periods import Month
from app.domain.policy import CATEGORY_LABELS, INSURANCE_LABELS
from app.services.identification import normalize_name
from app.services.ports import Clock, UnitOfWork

STATUSES = ("active", "suspended", "terminated")
BUREAUS = ("hr", "medical")


class RowError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _required(row: Mapping, *names: str) -> None:
    missing = [n for n in names if not str(row.get(n) or "").strip()]
    if missing:
        raise RowError("field_missing", "缺少必填字段：" + "、".join(missing))


def _month(text, name: str) -> Month:
    try:
        return Month.parse(str(text))
    except ValueError:
        raise RowError("month_format", f"{name}应为年月，如2026-01") from None


def _rejection(number: int, row: Mapping, err) -> dict:
    return {"row": number, "insured_number": row.get("insured_number"), "code": err.code, "message": err.message}


def _report() -> dict:
    return {"created": 0, "updated": 0, "unchanged": 0, "rejected": []}


def import_enrollments(rows: Iterable[Mapping], uow: UnitOfWork, clock: Clock) -> dict:
    """Create or update enrollments (and their persons) from bureau rows."""
    report = _report()
    with uow:
        for number, row in enumerate(rows, start=1):
            try:
                report[_import_enrollment(row, uow, clock.today())] += 1
            except (RowError, DomainError) as err:
                report["rejected"].append(_rejection(number, row, err))
        uow.audit.record("bureau.enrollments_imported", "bureau",
                         {k: v if k != "rejected" else len(v) for k, v in report.items()}, clock.now())
        uow.commit()
    return report


def _person_of(row: Mapping, id_number: str, name: str, uow: UnitOfWork) -> tuple[Person, str]:
    """The row's person, registered now or already (by an earlier push, or by one at the same moment)."""
    person = uow.persons.find_by_document(row["id_type"], id_number)
    if person is None:
        added = uow.persons.add(Person(id_type=row["id_type"], id_number=id_number, name=name,
                                       phone=(row.get("phone") or None)))
        if added is not None:
            return added, "created"
        person = uow.persons.find_by_document(row["id_type"], id_number)  # another push registered them meanwhile
    if normalize_name(person.name) != name:
        raise RowError("person_name_conflict", "该证件号码已登记为其他姓名，请核实后再推送")
    if row.get("phone") and row["phone"] != person.phone:
        person.phone = row["phone"]
        uow.persons.update_contact(person)
        return person, "updated"
    return person, "unchanged"


def _import_enrollment(row: Mapping, uow: UnitOfWork, today: date) -> str:
    _required(row, "name", "id_type", "id_number", "insurance", "region", "category", "insured_number",
              "start_month")
    id_number = normalize_document(row["id_type"], row["id_number"], today=today)
    if row["insurance"] not in INSURANCE_LABELS:
        raise RowError("insurance_unknown", f"险种无效：{row['insurance']}")
    if row["category"] not in CATEGORY_LABELS or row["category"] == "employer":
        raise RowError("category_unknown", f"参保类别无效：{row['category']}")
    status = (row.get("status") or "active").strip()
    bureau = (row.get("source_bureau") or ("medical" if row["insurance"] == "medical" else "hr")).strip()
    if status not in STATUSES:
        raise RowError("status_unknown", f"参保状态无效：{status}")
    if bureau not in BUREAUS:
        raise RowError("bureau_unknown", f"来源部门无效：{bureau}")
    start = _month(row["start_month"], "参保开始年月")
    person, outcome = _person_of(row, id_number, normalize_name(row["name"]), uow)
    insured_number = str(row["insured_number"]).strip()
    existing = uow.enrollments.get_by_insured_number(insured_number)
    if existing is None:
        added = uow.enrollments.add(Enrollment(
            person_id=person.id, insurance=row["insurance"], region=str(row["region"]), category=row["category"],
            insured_number=insured_number, start_month=start, status=status, source_bureau=bureau))
        if added is not None:
            return "created"
        existing = uow.enrollments.get_by_insured_number(insured_number)  # another push added it meanwhile
    if existing.person_id != person.id:
        raise RowError("insured_number_conflict", "该个人参保编号已属于其他参保人")
    if (existing.insurance, existing.region, existing.category) != (row["insurance"], str(row["region"]), row["category"]):
        raise RowError("enrollment_conflict", "该个人参保编号的险种、统筹区或类别与已登记信息不一致")
    if (existing.status, existing.start_month, existing.source_bureau) != (status, start, bureau):
        existing.status, existing.start_month, existing.source_bureau = status, start, bureau
        uow.enrollments.update(existing)
        return "updated"
    return outcome


def import_special_assessments(rows: Iterable[Mapping], uow: UnitOfWork, clock: Clock) -> dict:
    """Create special assessments (特殊缴费) decided by a bureau."""
    report = _report()
    with uow:
        for number, row in enumerate(rows, start=1):
            try:
                report[_import_special(row, uow, clock)] += 1
            except RowError as err:
                report["rejected"].append(_rejection(number, row, err))
        uow.audit.record("bureau.special_imported", "bureau",
                         {k: v if k != "rejected" else len(v) for k, v in report.items()}, clock.now())
        uow.commit()
    return report


def _import_special(row: Mapping, uow: UnitOfWork, clock: Clock) -> str:
    _required(row, "insured_number", "period_start", "period_end", "amount_fen", "notice_number")
    enrollment = uow.enrollments.get_by_insured_number(str(row["insured_number"]).strip())
    if enrollment is None:
        raise RowError("enrollment_not_found", "未找到该个人参保编号的参保登记")
    start, end = _month(row["period_start"], "费款所属期起"), _month(row["period_end"], "费款所属期止")
    if end < start:
        raise RowError("period_range", "费款所属期止不能早于起")
    try:
        amount = int(str(row["amount_fen"]).strip())
    except ValueError:
        raise RowError("amount_format", "金额应为以分为单位的整数") from None
    if amount <= 0:
        raise RowError("amount_format", "金额应大于0")
    notice = str(row["notice_number"]).strip()
    if uow.assessments.find_special(notice, enrollment.id, start.first_day()) is not None:
        return "unchanged"
    last_day = date(end.year, end.month, calendar.monthrange(end.year, end.month)[1])
    uow.assessments.add_many([Assessment(
        enrollment_id=enrollment.id, person_id=enrollment.person_id, insurance=enrollment.insurance,
        region=enrollment.region, period_start=start.first_day(), period_end=last_day, amount_fen=amount,
        kind="special", notice_number=notice, reason=(row.get("reason") or "特殊缴费").strip(),
        declared_at=clock.now())])
    return "created"
