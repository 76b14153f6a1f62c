"""Money arriving: notifications, posting, automatic refunds, and the re-query of stuck orders.

verify (the provider adapter) → cross-check against our order → compare-and-set → post
(assessments paid, e-ticket numbers issued) → answer in the provider's format. A duplicate
gets the same answer and changes nothing; a forged or mismatched one changes nothing and is
logged. When the payer was debited but posting is impossible (the order had closed, or its
assessments were paid or voided elsewhere) the money goes back through the provider's refund.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Mapping

from app.domain.model import DECLARED_UNPAID, PAID, PAYING
from app.domain.orders import (CLOSED, CREATED, DEBITED_STATES, PAYING as ORDER_PAYING, POSTED, REFUND_FAILED,
                               REFUND_PENDING, REFUND_SUCCEEDED, REFUNDED, REFUNDING, SUCCEEDED, Order, Refund)
from app.services import events
from app.services.orders import close_locally
from app.services.ports import Clock, Numbers, UnitOfWork
from payments.base import (Acknowledgement, IncomingNotification, Notification, NotificationRejected,
                           PaymentProvider, RefundRequest, RefundResult, ResultState)



class PostingImpossible(Exception):
    """Rolls back a half-done posting so the refund path starts from a clean state."""


def receive_notification(provider_code: str, incoming: IncomingNotification, uow: UnitOfWork,
                         providers: Mapping[str, PaymentProvider], clock: Clock, numbers: Numbers) -> Acknowledgement:
    """Handle one provider notification and answer in that provider's format."""
    provider = providers.get(provider_code)
    if provider is None:
        return Acknowledgement(404, b"unknown provider")
    try:
        note = provider.parse_notification(incoming)
    except NotificationRejected as rejected:
        events.emit(events.NOTIFICATION_REJECTED, provider=provider_code, reason=rejected.reason,
                    detail=rejected.detail[:120])
        with uow:
            _log(uow, provider_code, None, "rejected", str(rejected), clock)
            uow.commit()
        return provider.acknowledge(False)
    if note.kind == "refund":
        handled = settle_refund_notification(provider_code, note, uow, clock)
    elif note.state == ResultState.SUCCESS:
        handled = settle_success(provider_code, note.order_no, note.amount_fen, note.provider_trade_no, note.paid_at,
                                 uow, providers, clock, numbers, source="notification") in _HANDLED
    elif note.state == ResultState.FAIL:
        handled = settle_failure(provider_code, note.order_no, uow, clock, note.provider_state or "FAIL")
    else:
        handled = True  # WAITING: nothing to do, nothing to retry
    if handled:
        events.emit(events.NOTIFICATION_ACCEPTED, provider=provider_code, order_no=note.order_no, kind=note.kind,
                    state=note.state.value)
    return provider.acknowledge(handled)


# outcomes after which the provider may stop notifying
_HANDLED = {"posted", "duplicate", "refunding"}


def settle_success(provider_code: str, order_no: str, amount_fen: int, trade_no: str | None, paid_at: datetime | None,
                   uow: UnitOfWork, providers: Mapping[str, PaymentProvider], clock: Clock, numbers: Numbers,
                   source: str) -> str:
    """The payer was debited: post the order once, or send the money back when it cannot be posted."""
    now = clock.now()
    with uow:
        order = uow.orders.get_by_no(order_no)
        problem = _cross_check(order, provider_code, amount_fen)
        if problem:
            events.emit(events.NOTIFICATION_REJECTED if source == "notification" else "requery_mismatch",
                        provider=provider_code, order_no=order_no, reason=problem, source=source, amount_fen=amount_fen)
            _log(uow, provider_code, order_no, problem, f"{source} amount={amount_fen}", clock)
            uow.commit()
            return problem
        if order.state in DEBITED_STATES:
            _log(uow, provider_code, order_no, "duplicate", source, clock)
            uow.commit()
            return "duplicate"
        prior = order.state
        if not uow.orders.move(order.id, prior, SUCCEEDED, paid_at=paid_at or now, provider_trade_no=trade_no):
            return "duplicate"  # another notification or the re-query job won the race
        try:
            if prior == CLOSED:
                raise PostingImpossible("order_closed")
            _post(uow, order, now, numbers)
            _log(uow, provider_code, order_no, "posted", source, clock)
            uow.commit()
            events.emit(events.ORDER_POSTED, order_no=order_no, provider=provider_code, amount_fen=order.amount_fen,
                        source=source, debit_to_post_seconds=round((now - (paid_at or now)).total_seconds(), 3))
            return "posted"
        except PostingImpossible as why:
            uow.rollback()
            reason = str(why)
    return _refund_unpostable(order_no, reason, uow, providers, clock, numbers, paid_at or now, trade_no)


def _post(uow: UnitOfWork, order: Order, now: datetime, numbers: Numbers) -> None:
    ids = uow.orders.live_assessment_ids(order.id)
    if len(ids) != len(order.items) or uow.assessments.move(ids, PAYING, PAID, paid_at=now) != len(ids):
        raise PostingImpossible("assessment_unavailable")
    regions = {a.id: a.region for a in uow.assessments.get_many(ids)}
    tickets = {aid: numbers.e_ticket(regions[aid], now) for aid in ids}
    uow.orders.add_payments(order.id, tickets, {i.assessment_id: i.amount_fen for i in order.items}, now)
    uow.orders.move(order.id, SUCCEEDED, POSTED, posted_at=now)
    uow.audit.record("order.posted", f"order:{order.order_no}", {"tickets": list(tickets.values())}, now)


def _refund_unpostable(order_no: str, reason: str, uow: UnitOfWork, providers: Mapping[str, PaymentProvider],
                       clock: Clock, numbers: Numbers, paid_at: datetime, trade_no: str | None) -> str:
    """扣款成功但缴费失败: record the debit, release what the order held, refund by the original route."""
    now = clock.now()
    with uow:
        order = uow.orders.get_by_no(order_no)
        prior = order.state
        if prior in DEBITED_STATES:
            return "duplicate"
        if not uow.orders.move(order.id, prior, SUCCEEDED, paid_at=paid_at, provider_trade_no=trade_no):
            return "duplicate"
        uow.orders.move(order.id, SUCCEEDED, REFUNDING, failure_reason=reason)
        released = uow.orders.release_items(order.id)
        uow.assessments.move(released, PAYING, DECLARED_UNPAID)
        refund = uow.orders.add_refund(Refund(refund_no=numbers.refund_no(now), order_id=order.id,
                                              amount_fen=order.amount_fen, reason=reason, created_at=now))
        _log(uow, order.provider, order_no, "refunding", reason, clock)
        uow.audit.record("order.refunding", f"order:{order_no}", {"reason": reason, "refund_no": refund.refund_no}, now)
        uow.commit()
    events.emit(events.REFUND_REQUESTED, refund_no=refund.refund_no, order_no=order_no, provider=order.provider,
                amount_fen=refund.amount_fen, reason=reason)
    result = providers[order.provider].refund(RefundRequest(
        order_no=order.order_no, refund_no=refund.refund_no, amount_fen=refund.amount_fen, total_fen=order.amount_fen,
        reason="扣款成功但缴费失败，原路退回", provider_trade_no=trade_no))
    apply_refund_result(refund.refund_no, result, uow, clock)
    return "refunding"


def apply_refund_result(refund_no: str, result: RefundResult, uow: UnitOfWork, clock: Clock) -> None:
    """Record a refund outcome; WAITING and UNKNOWN stay pending for the re-query job."""
    if result.state not in (ResultState.SUCCESS, ResultState.FAIL):
        return
    with uow:
        refund = uow.orders.get_refund(refund_no)
        if refund is None:
            return
        new = REFUND_SUCCEEDED if result.state == ResultState.SUCCESS else REFUND_FAILED
        if uow.orders.move_refund(refund.id, REFUND_PENDING, new, finished_at=clock.now(),
                                  provider_refund_no=result.provider_refund_no):
            if new == REFUND_SUCCEEDED:
                uow.orders.move(refund.order_id, REFUNDING, REFUNDED)
            uow.audit.record("refund." + new, f"refund:{refund_no}", {"provider_state": result.provider_state},
                             clock.now())
            done = True
        else:
            done = False
        uow.commit()
    if done and new == REFUND_SUCCEEDED:
        events.emit(events.REFUND_DONE, refund_no=refund_no, order_no=result.order_no, amount_fen=refund.amount_fen)
    elif done:
        events.emit(events.REFUND_FAILED, refund_no=refund_no, order_no=result.order_no,
                    error_code=result.error_code, error_message=(result.error_message or "")[:120])


def settle_refund_notification(provider_code: str, note: Notification, uow: UnitOfWork, clock: Clock) -> bool:
    with uow:
        refund = uow.orders.get_refund(note.refund_no or "")
        order = uow.orders.get(refund.order_id) if refund else None
        if refund is None or order is None or order.provider != provider_code or note.amount_fen != refund.amount_fen:
            _log(uow, provider_code, note.order_no, "refund_mismatch", f"refund={note.refund_no}", clock)
            events.emit(events.NOTIFICATION_REJECTED, provider=provider_code, order_no=note.order_no,
                        refund_no=note.refund_no, reason="refund_mismatch")
            uow.commit()
            return False
    apply_refund_result(refund.refund_no, RefundResult(state=note.state, order_no=note.order_no,
                                                       refund_no=refund.refund_no, amount_fen=note.amount_fen,
                                                       provider_refund_no=note.provider_refund_no,
                                                       provider_state=note.provider_state), uow, clock)
    return True


def settle_failure(provider_code: str, order_no: str, uow: UnitOfWork, clock: Clock, provider_state: str) -> bool:
    """The provider says the payment failed or closed: close here and release the assessments."""
    with uow:
        order = uow.orders.get_by_no(order_no)
        if order is None or order.provider != provider_code:
            _log(uow, provider_code, order_no, "unknown_order", provider_state, clock)
            events.emit(events.NOTIFICATION_REJECTED, provider=provider_code, order_no=order_no, reason="unknown_order")
            uow.commit()
            return False
        close_locally(uow, order, clock, reason=f"provider:{provider_state}")
        uow.commit()
    return True


def requery_open_orders(uow: UnitOfWork, providers: Mapping[str, PaymentProvider], clock: Clock, numbers: Numbers,
                        min_age_seconds: int = 60, limit: int = 200) -> dict:
    """The job: ask providers about orders still open; close expired ones at the provider, then here.

    UNKNOWN is never taken as FAIL: the order stays as it is until a later run learns more.
    """
    now = clock.now()
    counts = {"posted": 0, "closed": 0, "waiting": 0, "unknown": 0, "refunding": 0, "refunds_settled": 0}
    with uow:
        orders = uow.orders.list_in_states((CREATED, ORDER_PAYING), now - timedelta(seconds=min_age_seconds), limit)
        refunds = uow.orders.pending_refunds(limit)
        refund_orders = {r.id: uow.orders.get(r.order_id) for r in refunds}
    for order in orders:
        provider = providers.get(order.provider)
        if provider is None:
            continue
        trade = provider.query(order.order_no)
        if trade.state == ResultState.SUCCESS:
            outcome = settle_success(order.provider, order.order_no, trade.amount_fen, trade.provider_trade_no,
                                     trade.paid_at, uow, providers, clock, numbers, source="requery")
            counts["posted" if outcome == "posted" else "refunding"] += outcome in ("posted", "refunding")
        elif trade.state == ResultState.FAIL:
            counts["closed"] += settle_failure(order.provider, order.order_no, uow, clock, trade.provider_state or "FAIL")
        elif trade.state == ResultState.WAITING and order.is_expired(now):
            if provider.close(order.order_no).state == ResultState.SUCCESS:
                with uow:
                    counts["closed"] += close_locally(uow, order, clock, reason="expired")
                    uow.commit()
        else:
            counts["waiting" if trade.state == ResultState.WAITING else "unknown"] += 1
    for refund in refunds:
        order = refund_orders[refund.id]
        result = providers[order.provider].query_refund(order.order_no, refund.refund_no)
        apply_refund_result(refund.refund_no, result, uow, clock)
        counts["refunds_settled"] += result.state in (ResultState.SUCCESS, ResultState.FAIL)
    return counts


def _cross_check(order: Order | None, provider_code: str, amount_fen: int) -> str | None:
    if order is None:
        return "unknown_order"
    if order.provider != provider_code:
        return "provider_mismatch"
    if amount_fen != order.amount_fen:
        return "amount_mismatch"
    return None


def _log(uow: UnitOfWork, provider: str, order_no: str | None, outcome: str, detail: str, clock: Clock) -> None:
    """Add to the notification log inside the caller's unit of work (the caller commits)."""
    uow.orders.log_notification(provider, order_no, outcome, detail, clock.now())
