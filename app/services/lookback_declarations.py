"""Declared information (已申报信息查询) and declaration voiding (申报作废).

A declaration is what one notice number (告知单号) covers. Voiding moves its unpaid
assessments declared_unpaid → voided by compare-and-set, so it races safely with an order
being created for them (declared_unpaid → paying): exactly one wins. Voiding is refused
while a payment is in flight, once paid, and for special assessments pushed by a bureau.
"""
from __future__ import annotations

from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.model import DECLARED_UNPAID, PAID, PAYING, REFUNDED, VOIDED, Assessment
from app.services.enrollments import owned_enrollment
from app.services.lookback_views import DECLARATION_STATE_LABELS, declaration_view
from app.services.ports import Clock, UnitOfWork

NOT_FOUND = ("declaration_not_found", "未找到该申报信息，请核对告知单号")
BEING_PAID = ("declaration_being_paid", "该申报有费款正在支付中，不能作废；请先取消未完成的订单或等待支付结果")
ALREADY_PAID = ("declaration_paid", "该申报已缴费，不能作废；如需退回已缴费款，请办理退费申请")
SPECIAL = ("special_not_voidable", "特殊缴费由人社或医保部门核定推送，不能作废，请联系核定部门")


def declared_information(person_id: int, uow: UnitOfWork, enrollment_id: int | None = None,
                         state: str | None = None) -> list[dict]:
    """已申报信息: the person's declarations, newest first, each with its assessments."""
    if state is not None and state not in DECLARATION_STATE_LABELS:
        raise InvalidInput("state_unknown", "申报状态不正确", field="state")
    with uow:
        chosen = ([owned_enrollment(uow, person_id, enrollment_id)] if enrollment_id is not None
                  else uow.enrollments.list_for_person(person_id))
        enrollments = {e.id: e for e in chosen}
        by_notice: dict[str, list[Assessment]] = {}
        for e in enrollments.values():
            for a in uow.assessments.list_for_enrollment(e.id):
                by_notice.setdefault(a.notice_number, []).append(a)
    views = [declaration_view(notice, items, enrollments.get(items[0].enrollment_id))
             for notice, items in by_notice.items()]
    if state is not None:
        views = [v for v in views if v["state"] == state]
    views.sort(key=lambda v: (v["declared_at"] or "", v["notice_number"]), reverse=True)
    return views


def show_declaration(person_id: int, notice_number: str, uow: UnitOfWork) -> dict:
    """One declaration by its notice number, with details."""
    with uow:
        items = _declaration(uow, person_id, notice_number)
        enrollment = uow.enrollments.get(items[0].enrollment_id) if items[0].enrollment_id else None
    return declaration_view(notice_number, items, enrollment)


def void_declaration(person_id: int, notice_number: str, uow: UnitOfWork, clock: Clock,
                     assessment_ids: list[int] | None = None) -> dict:
    """申报作废: void the unpaid assessments of a declaration (all of them, or those named)."""
    with uow:
        items = _declaration(uow, person_id, notice_number)
        if assessment_ids:
            wanted = set(assessment_ids)
            targets = [a for a in items if a.id in wanted]
            if len(targets) != len(wanted):
                raise NotFound("assessment_not_found", "所选应缴费额不属于该申报", field="assessment_ids")
        else:
            targets = [a for a in items if a.state != VOIDED]
        refusal = void_refusal(targets)
        if refusal:
            raise Conflict(*refusal, field="notice_number")
        ids = [a.id for a in targets]
        if uow.assessments.move(ids, DECLARED_UNPAID, VOIDED) != len(ids):
            # an order took some of them between our read and our write: nothing is voided
            raise Conflict(*BEING_PAID, field="notice_number")
        now = clock.now()
        uow.audit.record("declaration.voided", f"notice:{notice_number}",
                         {"assessments": ids, "periods": [a.period_label for a in targets]}, now)
        uow.commit()
        items = _declaration(uow, person_id, notice_number)
        enrollment = uow.enrollments.get(items[0].enrollment_id) if items[0].enrollment_id else None
    return declaration_view(notice_number, items, enrollment)


def void_refusal(targets: list[Assessment]) -> tuple[str, str] | None:
    """Why these assessments cannot be voided, or None when they all can."""
    states = {a.state for a in targets}
    if not targets or states == {VOIDED}:
        return ("declaration_already_voided", "该申报已作废，无需重复操作")
    if PAYING in states:
        return BEING_PAID
    if states & {PAID, REFUNDED}:
        return ALREADY_PAID
    if VOIDED in states:
        return ("declaration_already_voided", "所选应缴费额中有已作废的项目，请刷新后重试")
    if any(a.kind == "special" for a in targets):
        return SPECIAL
    return None


def _declaration(uow: UnitOfWork, person_id: int, notice_number: str) -> list[Assessment]:
    items = [a for a in uow.assessments.list_by_notice(notice_number) if a.person_id == person_id]
    if not items:
        raise NotFound(*NOT_FOUND, field="notice_number")
    return items
