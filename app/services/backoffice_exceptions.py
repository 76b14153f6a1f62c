"""The money exceptions (异常) a person must look at, their evidence, and the actions that resolve them.

Five kinds, each from where it already lives: debited but not posted (orders that took money
and could not post it: a debit after the order had closed, an assessment no longer payable),
refunds that failed, provider calls that kept failing (``provider_calls``' exceptions list),
notifications refused or not matching (with the stored notification), and reconciliation
differences (``reconciliation``). The actions: re-query the provider now (a query call recorded
due now, run by the call worker: a durable call like every other), send a failed call again
(``provider_calls.send_again``), and mark resolved with a note — a difference through the
reconciliation book, the others as a case kept in the back office; either way a resolved
exception leaves the list and a second resolution is refused.
"""
from __future__ import annotations

from app.domain.calls import EXCEPTION, QUERY
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.orders import ORDER_STATE_LABELS, REFUND_STATE_LABELS
from app.domain.staff import check_reason
from app.services import provider_calls, reconciliation
from app.services.backoffice_ports import BackofficeDeps
from app.services.orders import PaymentPorts
from app.services.ports import UnitOfWork

DEBITED_UNPOSTED, REFUND_FAILED, CALL, NOTIFICATION, DIFFERENCE = (
    "debited_unposted", "refund_failed", "call", "notification", "difference")
KIND_LABELS = {DEBITED_UNPOSTED: "扣款成功但未入库", REFUND_FAILED: "退款失败", CALL: "渠道调用持续失败",
               NOTIFICATION: "通知被拒绝或不一致", DIFFERENCE: "对账差异"}
FAILURE_LABELS = {"order_closed": "订单已关闭后扣款", "assessment_unavailable": "应缴费额已不可缴"}
NOTIFICATION_LABELS = {"rejected": "验签或格式不通过", "unknown_order": "订单不存在", "provider_mismatch": "支付渠道不符",
                       "amount_mismatch": "金额不符", "refund_mismatch": "退款信息不符"}


def list_exceptions(deps: BackofficeDeps, uow: UnitOfWork, book_factory) -> dict[str, list[dict]]:
    """Every unresolved exception, by kind."""
    reads = deps.reads()
    resolved_calls = reads.resolved_keys(CALL)
    orders = [dict(row, state_label=ORDER_STATE_LABELS.get(row["state"], row["state"]),
                   failure_label=FAILURE_LABELS.get(row["failure_reason"] or "", row["failure_reason"] or ""))
              for row in reads.debited_unposted()]
    refunds = [dict(row, state_label=REFUND_STATE_LABELS.get(row["state"], row["state"]))
               for row in reads.failed_refunds()]
    calls = [c for c in provider_calls.list_exceptions(uow, limit=200) if str(c["id"]) not in resolved_calls]
    notes = [dict(row, outcome_label=NOTIFICATION_LABELS.get(row["outcome"], row["outcome"]))
             for row in reads.rejected_notifications()]
    differences = reconciliation.list_differences(book_factory, unresolved_only=True, limit=200)
    return {DEBITED_UNPOSTED: orders, REFUND_FAILED: refunds, CALL: calls, NOTIFICATION: notes,
            DIFFERENCE: differences}


def order_evidence(order_no: str, deps: BackofficeDeps, uow: UnitOfWork) -> dict:
    """An order as evidence: the order, items, payments, refunds, notifications, every provider call."""
    evidence = deps.reads().order_evidence(order_no)
    if evidence is None:
        raise NotFound("order_not_found", "订单不存在", field="order_no")
    order = evidence["order"]
    order["state_label"] = ORDER_STATE_LABELS.get(order["state"], order["state"])
    order["failure_label"] = FAILURE_LABELS.get(order.get("failure_reason") or "", order.get("failure_reason") or "")
    evidence["calls"] = provider_calls.calls_of_order(order_no, uow)
    evidence["case"] = deps.reads().case(DEBITED_UNPOSTED, order_no)
    return evidence


def notification_evidence(notification_id: int, deps: BackofficeDeps) -> dict:
    row = deps.reads().notification(notification_id)
    if row is None:
        raise NotFound("notification_not_found", "通知记录不存在")
    return dict(row, outcome_label=NOTIFICATION_LABELS.get(row["outcome"], row["outcome"]),
                case=deps.reads().case(NOTIFICATION, str(notification_id)))


def requery_order(order_no: str, uow: UnitOfWork, pay: PaymentPorts) -> None:
    """Ask the provider about an order now: a query call due now (the worker makes it and settles)."""
    now = pay.clock.now()
    with uow:
        order = uow.orders.get_by_no(order_no)
        if order is None:
            raise NotFound("order_not_found", "订单不存在", field="order_no")
        provider_calls.record_call(uow, QUERY, order.provider, order_no, {"order_no": order_no}, now, due=now)
        uow.audit.record("order.requery", f"order:{order_no}", {"by": "backoffice"}, now)
        uow.commit()
    if pay.wake:
        pay.wake()


def send_call_again(call_id: int, uow: UnitOfWork, pay: PaymentPorts) -> dict:
    """Send a failing provider call again (same idempotency key), due now."""
    row = provider_calls.send_again(call_id, uow, pay.clock)
    if pay.wake:
        pay.wake()
    return row


def resolve(kind: str, key: str, operator: str, note: str, deps: BackofficeDeps, book_factory,
            uow: UnitOfWork) -> None:
    """Mark an exception resolved with a note; a second resolution is refused."""
    note = check_reason(note, "note")
    if kind == DIFFERENCE:
        try:
            difference_id = int(key)
        except ValueError:
            raise NotFound("difference_not_found", "对账差异不存在") from None
        reconciliation.resolve_difference(difference_id, operator, note, book_factory, deps.clock)
        return
    if kind not in KIND_LABELS:
        raise InvalidInput("exception_kind_invalid", "异常类型不存在", field="kind")
    if not key or len(key) > 120 or not _is_open(kind, key, deps, uow):
        if deps.reads().case(kind, key or ""):
            raise Conflict("exception_already_resolved", "该异常已处理")
        raise NotFound("exception_not_found", "异常记录不存在")
    if not deps.reads().resolve_case(kind, key, operator, note, deps.clock.now()):
        raise Conflict("exception_already_resolved", "该异常已处理")


def _is_open(kind: str, key: str, deps: BackofficeDeps, uow: UnitOfWork) -> bool:
    reads = deps.reads()
    if kind == DEBITED_UNPOSTED:
        return any(row["order_no"] == key for row in reads.debited_unposted(limit=10_000))
    if kind == REFUND_FAILED:
        return any(row["refund_no"] == key for row in reads.failed_refunds(limit=10_000))
    if not key.isdigit():
        return False
    if kind == NOTIFICATION:
        return reads.notification(int(key)) is not None
    with uow:
        call = uow.calls.get_by_id(int(key))
        return call is not None and call.state == EXCEPTION
