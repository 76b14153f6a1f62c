"""Recording provider calls before they are made, and what operators see of them.

The worker that runs due calls is ``app/services/call_worker.py``; the calls themselves are
made where the money logic is (orders: prepay and close; settlement: refunds and queries).
Here: recording a call and an attempt's answer, the exceptions list (for the CLI now, the
back office later), sending an exception again, and the lag figures operations watch.
"""
from __future__ import annotations

import dataclasses
import enum
from datetime import date, datetime

from app.domain.calls import CALL_STATE_LABELS, EXCEPTION, ProviderCall, aware
from app.domain.errors import Conflict, NotFound
from app.domain.periods import local_iso
from app.services.ports import Clock, UnitOfWork


def as_record(value: object) -> object:
    """A request or a provider's typed answer as JSON: dataclasses as dicts, times as ISO text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_record(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): as_record(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [as_record(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def new_call(kind: str, provider: str, order_no: str, request: object, now: datetime, due: datetime,
             key: str | None = None, step: str | None = None) -> ProviderCall:
    """A call to record (``record_calls``), not yet recorded."""
    return ProviderCall(kind=kind, provider=provider, key=key or order_no, order_no=order_no, next_attempt_at=due,
                        created_at=now, step=step, request=as_record(request))


def record_call(uow: UnitOfWork, kind: str, provider: str, order_no: str, request: object, now: datetime,
                due: datetime, key: str | None = None, step: str | None = None) -> ProviderCall:
    """Record (or re-arm) a call inside the caller's transaction; it is made after the commit."""
    call = new_call(kind, provider, order_no, request, now, due, key, step)
    uow.calls.schedule(call)
    return call


def record_calls(uow: UnitOfWork, *calls: ProviderCall) -> tuple[ProviderCall, ...]:
    """Record (or re-arm) several calls of different kinds or keys inside the caller's transaction, at once."""
    uow.calls.schedule_many(list(calls))
    return calls


def answered(call: ProviderCall, result: object, now: datetime) -> None:
    """Keep the provider's answer on the call (the caller saves it)."""
    state = getattr(result, "state", None)
    outcome = "not_found" if getattr(result, "not_found", False) else getattr(state, "value", str(state))
    error = " ".join(str(x) for x in (getattr(result, "error_code", None), getattr(result, "error_message", None)) if x)
    call.note(outcome, as_record(result), error or None)


def list_exceptions(uow: UnitOfWork, limit: int = 100, after_id: int = 0) -> list[dict]:
    """The calls that need an operator, oldest first (paged by id)."""
    with uow:
        return [call_view(c) for c in uow.calls.list_in_state(EXCEPTION, limit, after_id)]


def calls_of_order(order_no: str, uow: UnitOfWork) -> list[dict]:
    """Every call made about an order (prepay, queries, close, refunds), for an operator."""
    with uow:
        return [call_view(c) for c in uow.calls.for_order(order_no)]


def send_again(call_id: int, uow: UnitOfWork, clock: Clock) -> dict:
    """An operator sends an exception again (same idempotency key), due now."""
    with uow:
        call = uow.calls.get_by_id(call_id)
        if call is None:
            raise NotFound("call_not_found", "未找到该调用记录", field="call_id")
        if call.state != EXCEPTION:
            raise Conflict("call_not_exception", "该调用不在异常列表中", field="call_id")
        if call.kind == "refund":
            refund = uow.orders.get_refund(call.key)
            if refund is not None and refund.state == "failed":
                refund.send_again()
                uow.orders.save_refund(refund)
        call.send_again(clock.now())
        if not uow.calls.save(call, clock.now()):
            raise Conflict("call_changed", "该调用已被处理，请刷新", field="call_id")
        uow.audit.record("call.sent_again", f"call:{call.id}", {"kind": call.kind, "key": call.key}, clock.now())
        uow.commit()
        return call_view(call)


def money_lag(uow: UnitOfWork, clock: Clock) -> dict:
    """What operations watch: how long money can sit unposted, and how far behind the worker is.

    ``oldest_paid_unposted_seconds``: the age of the oldest order we know was debited and is
    neither posted nor being refunded (0 when none; anything above a few seconds is an alarm).
    ``oldest_overdue_call_seconds``: how late the most overdue provider call is; a paid order
    whose notifications were lost is found by its next query, so this bounds how much later
    than its schedule it is posted. ``exceptions``: calls waiting for an operator.
    """
    now = clock.now()
    with uow:
        paid = aware(uow.orders.oldest_debited_unposted(), now)
        due = aware(uow.calls.oldest_due(now), now)
        exceptions = uow.calls.count_exceptions()
    return {"oldest_paid_unposted_seconds": max(0, int((now - paid).total_seconds())) if paid else 0,
            "oldest_overdue_call_seconds": max(0, int((now - due).total_seconds())) if due else 0,
            "exceptions": exceptions}


def call_view(call: ProviderCall) -> dict:
    return {"id": call.id, "kind": call.kind, "provider": call.provider, "key": call.key, "order_no": call.order_no,
            "state": call.state, "state_label": CALL_STATE_LABELS[call.state], "step": call.step,
            "attempts": call.attempts, "next_attempt_at": local_iso(call.next_attempt_at), "outcome": call.outcome,
            "last_error": call.last_error, "request": call.request, "answer": call.answer,
            "created_at": local_iso(call.created_at), "finished_at": local_iso(call.finished_at)}
