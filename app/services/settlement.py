"""Money arriving: notifications, posting, automatic refunds, and what queries learn.

verify (the provider adapter) → cross-check against our order → post (assessments paid,
e-ticket numbers issued, the order moved through its state table and saved as a
compare-and-set) → answer in the provider's format. A duplicate gets the same answer and
changes nothing; a forged or mismatched one changes nothing and is logged. The verified body
is kept with the order (personal data stripped) for replay and disputes.

When the payer was debited but posting is impossible (the order had closed, or its
assessments were paid or voided elsewhere) the money goes back: the refund is recorded as
a provider call, and the worker sends it. A request handling a notification never waits on
a provider.
"""
from __future__ import annotations

import logging
from datetime import datetime

from app.domain.calls import ASK, REFUND, SEND, ProviderCall, aware
from app.domain.model import DECLARED_UNPAID, PAID, PAYING
from app.domain.orders import (CLOSED, DEBITED_STATES, REFUND_PENDING, REFUNDING, Order, Refund, kept_notification)
from app.services import events
from app.services.late_fees import post_late_fees
from app.services.orders import PaymentPorts, close_locally
from app.services.ports import Clock, UnitOfWork
from app.services.provider_calls import record_call
from app.services.refund_applications import original_refund_settled
from payments.base import (Acknowledgement, IncomingNotification, Notification, NotificationRejected,
                           RefundRequest, RefundResult, ResultState, TradeResult)

log = logging.getLogger(__name__)
REFUND_REASON = "扣款成功但缴费失败，原路退回"


def receive_notification(provider_code: str, incoming: IncomingNotification, uow: UnitOfWork,
                         pay: PaymentPorts) -> Acknowledgement:
    """Handle one provider notification and answer in that provider's format."""
    clock = pay.clock
    provider = pay.providers.get(provider_code)
    if provider is None:
        return Acknowledgement(404, b"unknown provider")
    try:
        note = provider.parse_notification(incoming)
    except NotificationRejected as rejected:
        events.emit(events.NOTIFICATION_REJECTED, provider=provider_code, reason=rejected.reason,
                    detail=rejected.detail[:120])
        with uow:
            uow.orders.log_notification(provider_code, None, "rejected", str(rejected), clock.now())
            uow.commit()
        return provider.acknowledge(False)
    body = kept_notification(dict(note.raw)) if note.raw else None
    if note.kind == "refund":
        handled = settle_refund_notification(provider_code, note, uow, pay, body)
    elif note.state == ResultState.SUCCESS:
        handled = settle_success(provider_code, note, uow, pay, source="notification", body=body) in _HANDLED
    elif note.state == ResultState.FAIL:
        handled = settle_failure(provider_code, note.order_no, uow, clock, note.provider_state or "FAIL", body)
    else:
        handled = True  # WAITING: nothing to do, nothing to retry
    if handled:
        events.emit(events.NOTIFICATION_ACCEPTED, provider=provider_code, order_no=note.order_no, kind=note.kind,
                    state=note.state.value)
    return provider.acknowledge(handled)


# outcomes after which the provider may stop notifying
_HANDLED = {"posted", "duplicate", "refunding"}


def settle_success(provider_code: str, debit: Notification | TradeResult, uow: UnitOfWork, pay: PaymentPorts,
                   source: str, body: dict | None = None) -> str:
    """The payer was debited: post the order once, or send the money back when it cannot be posted."""
    now = pay.clock.now()
    order_no, amount_fen = debit.order_no, debit.amount_fen
    paid_at = debit.paid_at or now
    with uow:
        order = uow.orders.get_by_no(order_no, for_update=True)  # a concurrent duplicate waits here
        problem = _cross_check(order, provider_code, amount_fen)
        if problem:
            events.emit(events.NOTIFICATION_REJECTED if source == "notification" else "requery_mismatch",
                        provider=provider_code, order_no=order_no, reason=problem, source=source, amount_fen=amount_fen)
            uow.orders.log_notification(provider_code, order_no, problem, f"{source} amount={amount_fen}", now, body)
            uow.commit()
            return problem
        if order.state in DEBITED_STATES:
            uow.orders.log_notification(provider_code, order_no, "duplicate", source, now, body)
            uow.commit()
            return "duplicate"
        if order.state != CLOSED and _post(uow, order, now, paid_at, debit.provider_trade_no):
            uow.orders.log_notification(provider_code, order_no, "posted", source, now, body)
            uow.commit()
            events.emit(events.ORDER_POSTED, order_no=order_no, provider=provider_code, amount_fen=order.amount_fen,
                        source=source, debit_to_post_seconds=round((now - paid_at).total_seconds(), 3))
            return "posted"
        reason = "order_closed" if order.state == CLOSED else "assessment_unavailable"
        uow.rollback()  # nothing of a half-done posting stays
    return _refund_unpostable(provider_code, debit, reason, uow, pay, source, body)


def _post(uow: UnitOfWork, order: Order, now: datetime, paid_at: datetime, trade_no: str | None) -> bool:
    """Assessments paid, payments with e-ticket numbers, the order posted; False when it cannot be."""
    order.debit(paid_at, trade_no)
    live = [i for i in order.items if i.live]
    regions = uow.assessments.move_returning_regions([i.assessment_id for i in live], PAYING, PAID, paid_at=now)
    if len(live) != len(order.items) or len(regions) != len(live):
        return False
    tickets = uow.orders.add_payments(order.id, [(i.assessment_id, regions[i.assessment_id], i.amount_fen)
                                                 for i in live], now)
    tickets.update({f"{aid}:late_fee": t for aid, t in post_late_fees(uow, order, regions, now).items()})
    order.post(now)
    if not uow.orders.save(order):  # cannot happen while we hold the row; if it does, nothing is kept
        raise RuntimeError(f"order {order.order_no} changed under its lock")
    uow.audit.record("order.posted", f"order:{order.order_no}", {"tickets": list(tickets.values())}, now)
    return True


def _refund_unpostable(provider_code: str, debit: Notification | TradeResult, reason: str, uow: UnitOfWork,
                       pay: PaymentPorts, source: str, body: dict | None) -> str:
    """扣款成功但缴费失败: record the debit, release what the order held, and record the refund to send."""
    now = pay.clock.now()
    with uow:
        order = uow.orders.get_by_no(debit.order_no, for_update=True)
        if order.state in DEBITED_STATES:
            uow.orders.log_notification(provider_code, order.order_no, "duplicate", source, now, body)
            uow.commit()
            return "duplicate"
        order.debit(debit.paid_at or now, debit.provider_trade_no)
        order.start_refund(reason)
        uow.orders.save(order)
        released = uow.orders.release_items(order.id)
        uow.assessments.move(released, PAYING, DECLARED_UNPAID)
        refund = uow.orders.add_refund(Refund(refund_no=pay.numbers.refund_no(now), order_id=order.id,
                                              amount_fen=order.amount_fen, reason=reason, created_at=now))
        record_call(uow, REFUND, order.provider, order.order_no, RefundRequest(
            order_no=order.order_no, refund_no=refund.refund_no, amount_fen=refund.amount_fen,
            total_fen=order.amount_fen, reason=REFUND_REASON, provider_trade_no=order.provider_trade_no),
            now, due=now, key=refund.refund_no, step=SEND)
        uow.orders.log_notification(provider_code, order.order_no, "refunding", f"{source} {reason}", now, body)
        uow.audit.record("order.refunding", f"order:{order.order_no}", {"reason": reason, "refund_no": refund.refund_no},
                         now)
        uow.commit()
    events.emit(events.REFUND_REQUESTED, refund_no=refund.refund_no, order_no=order.order_no, provider=order.provider,
                amount_fen=refund.amount_fen, reason=reason)
    if pay.wake:
        pay.wake()
    return "refunding"


def apply_refund_result(call: ProviderCall, result: RefundResult, uow: UnitOfWork, pay: PaymentPorts) -> str:
    """What a refund attempt (sent, or asked about) learned; saves the call. Answers what happens next.

    SUCCESS: refunded (the order too). WAITING: ask again later. UNKNOWN: ask, later (whether it
    arrived is not known). FAIL "not found": it never arrived, send it again now, with the same
    refund number. Any other FAIL: the provider refused it; the refund is failed and the call goes
    to the exceptions list, where an operator sees it. Never a silent failure.
    """
    now = pay.clock.now()
    with uow:
        refund = uow.orders.get_refund(call.key)
        if refund is None or refund.state != REFUND_PENDING:
            call.finish(now)
            outcome = "settled"
        elif result.state == ResultState.SUCCESS:
            _refunded(uow, refund, result.provider_refund_no, now)
            call.finish(now)
            outcome = "refunded"
        elif result.state == ResultState.FAIL and result.not_found:
            call.again_at(now, step=SEND)
            outcome = "send_again"
        elif result.state == ResultState.FAIL:
            refund.fail(now)
            uow.orders.save_refund(refund)
            call.give_up(now, f"refused by the provider: {result.error_code} {result.error_message or ''}".strip())
            events.emit(events.REFUND_FAILED, refund_no=refund.refund_no, order_no=call.order_no,
                        provider=call.provider, error_code=result.error_code,
                        error_message=(result.error_message or "")[:120])
            uow.audit.record("refund.failed", f"refund:{refund.refund_no}", {"error": result.error_code}, now)
            outcome = "exception"
        elif result.state == ResultState.WAITING:
            call.attempts = 0  # the provider answered: waiting is not failing
            call.again_at(now + pay.policy.wait_while_pending(now - aware(call.created_at, now)), step=ASK)
            outcome = "waiting"
        else:
            call.retry_later(now, pay.policy, step=ASK)
            outcome = "exception" if call.state == "exception" else "unknown"
        uow.calls.save(call, now)
        uow.commit()
    if outcome == "refunded":
        events.emit(events.REFUND_DONE, refund_no=refund.refund_no, order_no=call.order_no, provider=call.provider,
                    amount_fen=refund.amount_fen)
    return outcome


def _refunded(uow: UnitOfWork, refund: Refund, provider_refund_no: str | None, now: datetime) -> None:
    refund.succeed(now, provider_refund_no)
    if uow.orders.save_refund(refund):
        order = uow.orders.get(refund.order_id)
        if order.state == REFUNDING:
            order.finish_refund()
            uow.orders.save(order)
        original_refund_settled(uow, refund, True, now)  # a refund application's payout: its assessments
        uow.audit.record("refund.succeeded", f"refund:{refund.refund_no}", {}, now)


def settle_refund_notification(provider_code: str, note: Notification, uow: UnitOfWork, pay: PaymentPorts,
                               body: dict | None = None) -> bool:
    """The provider tells how a refund ended; the refund's call learns it as if it had asked."""
    now = pay.clock.now()
    with uow:
        refund = uow.orders.get_refund(note.refund_no or "")
        order = uow.orders.get(refund.order_id) if refund else None
        call = uow.calls.get(REFUND, refund.refund_no) if refund else None
        if refund is None or order is None or order.provider != provider_code or note.amount_fen != refund.amount_fen:
            uow.orders.log_notification(provider_code, note.order_no, "refund_mismatch", f"refund={note.refund_no}",
                                        now, body)
            uow.commit()
            events.emit(events.NOTIFICATION_REJECTED, provider=provider_code, order_no=note.order_no,
                        refund_no=note.refund_no, reason="refund_mismatch")
            return False
        uow.orders.log_notification(provider_code, note.order_no, "refund", note.provider_state or "", now, body)
        uow.commit()
    if call is None or note.state not in (ResultState.SUCCESS, ResultState.FAIL):
        return True
    call.read_attempts = None  # a notification does not claim the call: any attempt in flight may finish
    apply_refund_result(call, RefundResult(state=note.state, order_no=note.order_no, refund_no=refund.refund_no,
                                           amount_fen=note.amount_fen, provider_refund_no=note.provider_refund_no,
                                           provider_state=note.provider_state), uow, pay)
    return True


def settle_failure(provider_code: str, order_no: str, uow: UnitOfWork, clock: Clock, provider_state: str,
                   body: dict | None = None) -> bool:
    """The provider says the payment failed or closed: close here and release the assessments."""
    with uow:
        order = uow.orders.get_by_no(order_no, for_update=True)
        if order is None or order.provider != provider_code:
            uow.orders.log_notification(provider_code, order_no, "unknown_order", provider_state, clock.now(), body)
            uow.commit()
            events.emit(events.NOTIFICATION_REJECTED, provider=provider_code, order_no=order_no, reason="unknown_order")
            return False
        close_locally(uow, order, clock, reason=f"provider:{provider_state}")
        uow.orders.log_notification(provider_code, order_no, "failed", provider_state, clock.now(), body)
        uow.commit()
    return True


def _cross_check(order: Order | None, provider_code: str, amount_fen: int | None) -> str | None:
    if order is None:
        return "unknown_order"
    if order.provider != provider_code:
        return "provider_mismatch"
    if amount_fen != order.amount_fen:
        return "amount_mismatch"
    return None
