"""The worker that runs due provider calls: re-queries of open orders, closes, refunds.

One queue for every kind, taken most overdue first, a page at a time, each call claimed
(attempt counted, leased) in a short transaction before the provider is called; so no kind
and no provider can starve another, and a worker killed anywhere leaves nothing lost (the
lease ends, the call is due again, and every effect it has is idempotent: settling a debit
twice answers "duplicate", a refund number sent twice is one refund).

When an open order is asked about follows ``PaymentSettings.next_check``: a schedule of
widening waits for providers whose query can tell, and only its expiry for those whose cannot
(a bank counter voucher: the bank's file settles it). Expired and still unpaid, it is closed
at the provider, then here.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from app.domain.calls import ASK, CLOSE, EXCEPTION, PREPAY, QUERY, REFUND, ProviderCall, aware
from app.services.orders import PaymentPorts, close_at_provider
from app.services.ports import UnitOfWork
from app.services.provider_calls import answered, record_call
from app.services.refund_applications import PAYOUT, run_payout_call
from app.services.settlement import apply_refund_result, settle_failure, settle_success
from payments.base import RefundRequest, ResultState

log = logging.getLogger(__name__)


def run_due_calls(uow: UnitOfWork, pay: PaymentPorts, page_size: int = 100, max_pages: int = 20) -> dict:
    """Run the calls that are due now, a page at a time; answers what came of them, by outcome."""
    counts: dict[str, int] = {}
    for _ in range(max_pages):
        now = pay.clock.now()
        with uow:
            calls = uow.calls.claim_due(now, now + timedelta(seconds=pay.policy.lease_seconds), page_size)
            uow.commit()
        for call in calls:
            try:
                outcome = run_call(call, uow, pay)
            except Exception:  # one bad call must not stop the page; its lease ends and it is due again
                log.exception("provider call %s %s failed", call.kind, call.key)
                outcome = "error"
            counts[outcome] = counts.get(outcome, 0) + 1
        if not calls:
            break
    return counts


def run_call(call: ProviderCall, uow: UnitOfWork, pay: PaymentPorts) -> str:
    """One attempt of a claimed call."""
    if call.provider not in pay.providers:
        return _save_retry(call, uow, pay, f"provider {call.provider} not configured")
    if call.kind == QUERY:
        return _query(call, uow, pay)
    if call.kind == CLOSE:
        outcome = close_at_provider(call, uow, pay)
        return _save_retry(call, uow, pay) if outcome == "unknown" else _finish_if_settled(call, uow, pay, outcome)
    if call.kind == REFUND:
        return _refund(call, uow, pay)
    if call.kind == PREPAY:
        return _stale_prepay(call, uow, pay)
    if call.kind == PAYOUT:
        return run_payout_call(call, uow, pay)
    return _save_retry(call, uow, pay, f"unknown kind {call.kind}")


def _query(call: ProviderCall, uow: UnitOfWork, pay: PaymentPorts) -> str:
    now = pay.clock.now()
    with uow:
        order = uow.orders.get_by_no(call.order_no)
    if order is None or not order.is_open:
        return _finish_if_settled(call, uow, pay, "settled")
    expired = now >= aware(order.expires_at, now)
    if order.provider in pay.settings.unqueried_providers:
        return _close_or_wait(call, uow, pay, order, expired, checks_done=0)
    trade = pay.providers[order.provider].query(order.order_no)
    answered(call, trade, now)
    if trade.state == ResultState.SUCCESS:
        outcome = settle_success(order.provider, trade, uow, pay, source="requery")
        if outcome not in ("posted", "duplicate", "refunding"):  # e.g. the amounts differ: a person decides
            return _give_up(call, uow, pay, f"paid at the provider but not settled here: {outcome}")
        return _finish(call, uow, pay, outcome)
    if trade.state == ResultState.FAIL:
        settle_failure(order.provider, order.order_no, uow, pay.clock, trade.provider_state or "FAIL")
        return _finish(call, uow, pay, "closed")
    if trade.state == ResultState.WAITING:
        return _close_or_wait(call, uow, pay, order, expired, checks_done=call.attempts)
    return _save_retry(call, uow, pay)


def _close_or_wait(call: ProviderCall, uow: UnitOfWork, pay: PaymentPorts, order, expired: bool,
                   checks_done: int) -> str:
    now = pay.clock.now()
    with uow:
        if expired:
            record_call(uow, CLOSE, order.provider, order.order_no, {"order_no": order.order_no, "reason": "expired"},
                        now, due=now)
            call.finish(now)
            outcome = "expired"
        else:
            call.attempts = 0 if order.provider in pay.settings.unqueried_providers else call.attempts
            call.again_at(pay.settings.next_check(order.provider, checks_done, now, aware(order.expires_at, now)))
            outcome = "waiting"
        uow.calls.save(call, now)
        uow.commit()
    return outcome


def _refund(call: ProviderCall, uow: UnitOfWork, pay: PaymentPorts) -> str:
    provider = pay.providers[call.provider]
    request = call.request
    if call.step == ASK:
        result = provider.query_refund(call.order_no, call.key)
    else:
        result = provider.refund(RefundRequest(
            order_no=request["order_no"], refund_no=request["refund_no"], amount_fen=int(request["amount_fen"]),
            total_fen=int(request["total_fen"]), reason=request["reason"],
            provider_trade_no=request.get("provider_trade_no")))
    answered(call, result, pay.clock.now())
    sent = call.step != ASK
    outcome = apply_refund_result(call, result, uow, pay)
    return f"refund_{'sent' if sent else 'asked'}_{outcome}"


def _stale_prepay(call: ProviderCall, uow: UnitOfWork, pay: PaymentPorts) -> str:
    """A prepay whose request died before it recorded an answer: the payer never saw a way to pay,
    so the order is closed at the provider (which releases its assessments)."""
    now = pay.clock.now()
    with uow:
        record_call(uow, CLOSE, call.provider, call.order_no, {"order_no": call.order_no, "reason": "prepay_lost"},
                    now, due=now)
        call.note("abandoned", call.answer, "the request that made it ended without an answer")
        call.finish(now)
        uow.calls.save(call, now)
        uow.commit()
    return "prepay_abandoned"


def _finish_if_settled(call: ProviderCall, uow: UnitOfWork, pay: PaymentPorts, outcome: str) -> str:
    if call.state == "pending" and outcome == "settled":
        return _finish(call, uow, pay, outcome)
    return outcome  # close_at_provider saved it already


def _finish(call: ProviderCall, uow: UnitOfWork, pay: PaymentPorts, outcome: str) -> str:
    now = pay.clock.now()
    with uow:
        call.finish(now)
        uow.calls.save(call, now)
        uow.commit()
    return outcome


def _give_up(call: ProviderCall, uow: UnitOfWork, pay: PaymentPorts, reason: str) -> str:
    now = pay.clock.now()
    with uow:
        call.give_up(now, reason)
        uow.calls.save(call, now)
        uow.commit()
    log.error("provider call %s %s needs an operator: %s", call.kind, call.key, reason)
    return "exception"


def _save_retry(call: ProviderCall, uow: UnitOfWork, pay: PaymentPorts, error: str | None = None) -> str:
    """Nothing learned this time: wait longer, or hand it to an operator once attempts run out."""
    now = pay.clock.now()
    if error:
        call.note("error", call.answer, error)
    with uow:
        call.retry_later(now, pay.policy)
        uow.calls.save(call, now)
        uow.commit()
    return "exception" if call.state == EXCEPTION else "unknown"


__all__ = ["run_due_calls", "run_call"]
