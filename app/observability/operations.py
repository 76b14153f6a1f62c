"""Figures read from the database at each scrape: re-query lag, outbox backlog, open differences.

``gauges(container)`` gives ``{metric name: (help, read)}``. Two of them wait for their
features: ``outbox_backlog`` (durable provider calls) and ``open_reconciliation_differences``
(reconciliation) are hooks that answer None — and so export nothing — until those features
provide the function to call here.
"""
from __future__ import annotations

from datetime import timezone
from typing import Any, Callable

from sqlalchemy import func, select

from app.adapters import tables as t
from app.domain.orders import SUCCEEDED


def requery_lag_seconds(container) -> float:
    """Age of the oldest order the payer was debited for and that is not posted yet (0 when none)."""
    with container.engine.connect() as conn:
        oldest = conn.execute(select(func.min(t.payment_order.c.paid_at))
                              .where(t.payment_order.c.state == SUCCEEDED)).scalar()
    if oldest is None:
        return 0.0
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=timezone.utc)
    return max(0.0, (container.clock.now() - oldest).total_seconds())


def outbox_backlog(container) -> float | None:
    """Hook: provider calls recorded and not yet done. None until the durable provider calls land."""
    return None


def open_reconciliation_differences(container) -> float | None:
    """Hook: reconciliation differences nobody has resolved. None until reconciliation lands."""
    return None


def gauges(container) -> dict[str, tuple[str, Callable[[], Any]]]:
    return {
        "sbf_requery_lag_seconds": ("Age of the oldest paid-but-unposted order",
                                    lambda: requery_lag_seconds(container)),
        "sbf_outbox_backlog": ("Provider calls waiting to be made", lambda: outbox_backlog(container)),
        "sbf_reconciliation_differences_open": ("Reconciliation differences open",
                                                lambda: open_reconciliation_differences(container)),
    }
