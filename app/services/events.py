"""Business facts as events: one structured log line each, and whoever listens (the metrics).

``emit("order_posted", order_no=..., provider=...)`` writes one line on the ``sbf.events``
logger (rendered as JSON with the request id by ``app/observability/logs.py``) and hands the
fact to every subscriber (``app/observability/metrics.py`` counts them). Fields carry codes,
numbers of orders and refunds, amounts and reasons — never a name, a document number, an
authorization code or a signature; ``mask`` shortens the few identifiers worth keeping
(a channel user's open id).
"""
from __future__ import annotations

import logging
from typing import Any, Callable

log = logging.getLogger("sbf.events")
Listener = Callable[[str, dict], None]
_listeners: list[Listener] = []

ORDER_CREATED = "order_created"
ORDER_STATE_CHANGED = "order_state_changed"
ORDER_POSTED = "order_posted"
NOTIFICATION_ACCEPTED = "notification_accepted"
NOTIFICATION_REJECTED = "notification_rejected"
REFUND_REQUESTED = "refund_requested"
REFUND_DONE = "refund_done"
REFUND_FAILED = "refund_failed"
IDENTIFICATION_FAILED = "identification_failed"


def subscribe(listener: Listener) -> None:
    """Hear every fact emitted in this process (once per listener)."""
    if listener not in _listeners:
        _listeners.append(listener)


def emit(event: str, **fields: Any) -> None:
    """Record one business fact."""
    log.info(event, extra={"event": event, **fields})
    for listener in list(_listeners):
        listener(event, fields)


def observe(event: str, **fields: Any) -> None:
    """Hand a fact to the subscribers only (too frequent for its own log line: a state change)."""
    for listener in list(_listeners):
        listener(event, fields)


def mask(identifier: str | None, keep: int = 4) -> str | None:
    """The first ``keep`` characters and a star: enough to match lines, not to find a person."""
    if not identifier:
        return identifier
    return identifier[:keep] + "*" if len(identifier) > keep else "*"
