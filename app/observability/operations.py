"""Figures read from the database at each scrape: re-query lag, outbox backlog, exceptions, differences.

``figures(container)`` answers ``{metric name: (help, value)}``; a value of None is left out.
The lag figures are the provider-call service's own (``provider_calls.money_lag``, also shown
by ``flask calls lag``); the backlog counts the provider calls due and not yet made; the open
reconciliation differences are those not resolved yet.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.adapters import tables as t
from app.services import provider_calls


def outbox_backlog(container) -> int:
    """Provider calls due now and not yet made (the durable outbox's backlog)."""
    c = t.provider_call.c
    with container.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.provider_call)
                            .where(c.state == "pending", c.next_attempt_at <= container.clock.now())).scalar_one()


def open_reconciliation_differences(container) -> int:
    """Reconciliation differences nobody has resolved yet (``flask reconcile`` lists them)."""
    d = t.reconciliation_difference.c
    with container.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.reconciliation_difference)
                            .where(d.resolved_at.is_(None))).scalar_one()


def figures(container) -> dict[str, tuple[str, Any]]:
    lag = provider_calls.money_lag(container.uow(), container.clock)
    return {
        "sbf_requery_lag_seconds": ("Age of the oldest paid-but-unposted order", lag["oldest_paid_unposted_seconds"]),
        "sbf_outbox_backlog": ("Provider calls due and not yet made", outbox_backlog(container)),
        "sbf_outbox_oldest_overdue_seconds": ("How late the most overdue provider call is",
                                              lag["oldest_overdue_call_seconds"]),
        "sbf_provider_call_exceptions": ("Provider calls waiting for an operator", lag["exceptions"]),
        "sbf_reconciliation_differences_open": ("Reconciliation differences open",
                                                open_reconciliation_differences(container)),
    }
