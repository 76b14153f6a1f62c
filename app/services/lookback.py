"""Looking back at money paid: payment history (缴费记录), statements (缴费清单), contribution record (缴费证明).

Payment status (缴费情况查询) is ``app.services.declarations.payment_status``; declared
information and declaration voiding are in ``lookback_declarations``; certificates in
``certificates``.
"""
from __future__ import annotations

from datetime import date, timedelta

from app.domain.certificates import chinese_date, date_range, period_range, shanghai_date, start_of_day
from app.domain.zone import local_iso
from app.domain.documents import IdType, mask_id_number
from app.domain.model import KIND_LABELS
from app.domain.money import yuan
from app.domain.periods import Month
from app.domain.policy import PolicyBook
from app.services.enrollments import owned_enrollment
from app.services.lookback_views import history_order_view, insurance_title, masked, posted_payment_view
from app.services.ports import Clock, UnitOfWork

HISTORY_LIMIT = 200


def payment_history(person_id: int, uow: UnitOfWork, clock: Clock, start: date | None = None,
                    end: date | None = None) -> dict:
    """缴费记录: orders debited in a date range (a year by default), items, e-tickets, refunds; newest first."""
    start, end = date_range(start, end, clock.today())
    with uow:
        history = uow.lookback.order_history(person_id, start_of_day(start), start_of_day(end + timedelta(days=1)),
                                             HISTORY_LIMIT)
        ids = {i.person_id for o in history.orders for i in o.items} | {
            o.payer_person_id for o in history.orders if o.payer_person_id}
        persons = {pid: uow.persons.get(pid) for pid in ids}
    orders = [history_order_view(o, history.assessments, history.tickets, history.refunds.get(o.id, []), persons,
                                 history.categories) for o in history.orders]
    posted = [o for o in orders if o["state"] == "posted"]
    return {"start": start.isoformat(), "end": end.isoformat(), "orders": orders,
            "posted_count": len(posted), "posted_total_fen": sum(o["amount_fen"] for o in posted)}


def payment_statement(person_id: int, uow: UnitOfWork, clock: Clock, start: date | None = None,
                      end: date | None = None) -> dict:
    """缴费清单: every payment posted in a date range, for the person or paid by them for others."""
    start, end = date_range(start, end, clock.today())
    with uow:
        payments = uow.lookback.statement_payments(person_id, start_of_day(start),
                                                   start_of_day(end + timedelta(days=1)))
        ids = {p.person_id for p in payments} | {p.payer_person_id for p in payments if p.payer_person_id} | {person_id}
        persons = {pid: uow.persons.get(pid) for pid in ids}
    rows = [posted_payment_view(p, persons) for p in payments]
    total = sum(p.amount_fen for p in payments if not p.is_refunded)  # a refunded fee no longer counts as paid
    return {"person": masked(persons[person_id]), "start": start.isoformat(), "end": end.isoformat(),
            "generated_at": clock.now().isoformat(), "rows": rows, "count": len(rows), "total_fen": total,
            "total_yuan": yuan(total)}


def payment_statement_for_periods(person_id: int, period_start: str, period_end: str, uow: UnitOfWork,
                                  clock: Clock) -> dict:
    """缴费清单 by fee period (费款所属期 YYYY-MM to YYYY-MM): every posted payment for those periods."""
    first, last = period_range(period_start, period_end)
    with uow:
        payments = uow.lookback.statement_payments_for_periods(person_id, first, last)
        ids = {p.person_id for p in payments} | {p.payer_person_id for p in payments if p.payer_person_id} | {person_id}
        persons = {pid: uow.persons.get(pid) for pid in ids}
    payments.sort(key=lambda p: (p.assessment.period_start, p.posted_at, p.e_ticket_number))
    rows = [posted_payment_view(p, persons) for p in payments]
    total = sum(p.amount_fen for p in payments if not p.is_refunded)  # a refunded fee no longer counts as paid
    return {"person": masked(persons[person_id]), "start": period_start, "end": period_end, "by": "period",
            "generated_at": local_iso(clock.now()), "rows": rows, "count": len(rows), "total_fen": total,
            "total_yuan": yuan(total)}


def contribution_record(person_id: int, uow: UnitOfWork, clock: Clock, policies: PolicyBook,
                        enrollment_id: int | None = None) -> dict:
    """缴费证明: the person's paid periods per enrollment, with bases, amounts and posting dates."""
    record, _ = _record(person_id, uow, clock, policies, enrollment_id)
    return record


def contribution_record_document(person_id: int, uow: UnitOfWork, clock: Clock, policies: PolicyBook,
                                 enrollment_id: int | None = None) -> dict:
    """The contribution record as drawn on its PDF and image: the holder's own name, the document masked."""
    record, person = _record(person_id, uow, clock, policies, enrollment_id)
    record["holder"] = {"name": person.name, "id_type_label": IdType(person.id_type).label,
                        "id_number": mask_id_number(person.id_number)}
    record["generated_on"] = chinese_date(clock.today())
    return record


def _record(person_id: int, uow: UnitOfWork, clock: Clock, policies: PolicyBook, enrollment_id: int | None):
    with uow:
        person = uow.persons.get(person_id)
        enrollments = ([owned_enrollment(uow, person_id, enrollment_id)] if enrollment_id is not None
                       else uow.enrollments.list_for_person(person_id))
        payments = [p for p in uow.lookback.paid_payments(person_id) if not p.is_refunded]
    region_names = {p.region: p.region_name for p in policies.all()}
    sections, total_fen, total_months = [], 0, 0
    for e in enrollments:
        mine = sorted((p for p in payments if p.assessment.enrollment_id == e.id),
                      key=lambda p: (p.assessment.period_start, p.e_ticket_number))
        rows = []
        for p in mine:
            a = p.assessment
            months = Month.of(a.period_start).months_until(Month.of(a.period_end)) + 1
            rows.append({"period": a.period_label, "months": months, "kind_label": KIND_LABELS.get(a.kind, a.kind),
                         "base_yuan": yuan(a.base_fen) if a.base_fen is not None else None, "grade": a.grade_code,
                         "amount_fen": p.amount_fen, "amount_yuan": yuan(p.amount_fen),
                         "posted_on": shanghai_date(p.posted_at).isoformat(), "e_ticket_number": p.e_ticket_number})
        section_total = sum(r["amount_fen"] for r in rows)
        section_months = sum(r["months"] for r in rows)
        sections.append({"enrollment_id": e.id, "insured_number": e.insured_number,
                         "title": insurance_title(e.insurance, e.category),
                         "region_name": region_names.get(e.region, e.region), "rows": rows,
                         "months": section_months, "total_fen": section_total, "total_yuan": yuan(section_total),
                         "first_period": rows[0]["period"] if rows else None,
                         "last_period": rows[-1]["period"] if rows else None})
        total_fen += section_total
        total_months += section_months
    record = {"person": masked(person), "generated_at": clock.now().isoformat(), "enrollments": sections,
              "months": total_months, "total_fen": total_fen, "total_yuan": yuan(total_fen)}
    return record, person
