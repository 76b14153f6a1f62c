"""Prometheus metrics (prometheus-client), multiprocess under gunicorn.

One ``Metrics`` object per process (``metrics()``), never at import. When
``PROMETHEUS_MULTIPROC_DIR`` is set (``gunicorn.conf.py`` sets it before any worker
starts, and the RQ worker on the same machine shares it), every process writes its figures
there and ``/metrics`` adds them up; otherwise they live in this process's own registry.

Counted as they happen: request latency by route, notifications by provider and outcome,
order state changes, provider calls by outcome with their latency, rate-limit refusals.
Read from the database at each scrape (``OperationsCollector``, ``operations.py``): the
re-query lag (age of the oldest order debited but not posted), the provider-call backlog and
its delay, the calls waiting for an operator, and the open reconciliation differences.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any, Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from app.services import events

_metrics: "Metrics | None" = None
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """The process's metric families."""

    def __init__(self):
        # in multiprocess mode the values go to files and this registry is never read directly
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.request_seconds = Histogram("sbf_http_request_duration_seconds", "Request latency by route",
                                         ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=r)
        self.notifications = Counter("sbf_notifications_total", "Provider notifications by outcome",
                                     ["provider", "outcome", "reason"], registry=r)
        self.order_transitions = Counter("sbf_order_transitions_total", "Order state changes",
                                         ["from_state", "to_state"], registry=r)
        self.business_events = Counter("sbf_business_events_total", "Business facts by kind", ["event"], registry=r)
        self.provider_calls = Counter("sbf_provider_calls_total", "Calls to payment providers by outcome",
                                      ["provider", "operation", "outcome"], registry=r)
        self.provider_seconds = Histogram("sbf_provider_call_duration_seconds", "Provider call latency",
                                          ["provider", "operation"], buckets=LATENCY_BUCKETS, registry=r)
        self.rate_limited = Counter("sbf_rate_limit_refusals_total", "Requests refused by a rate limit (429)",
                                    ["route"], registry=r)

    def on_event(self, event: str, fields: dict) -> None:
        """The business facts of ``app/services/events.py``, counted."""
        if event == events.ORDER_STATE_CHANGED:
            self.order_transitions.labels(fields["from_state"], fields["to_state"]).inc()
            return
        self.business_events.labels(event).inc()
        if event in (events.NOTIFICATION_ACCEPTED, events.NOTIFICATION_REJECTED):
            outcome = "accepted" if event == events.NOTIFICATION_ACCEPTED else "rejected"
            self.notifications.labels(fields.get("provider", ""), outcome, fields.get("reason", "")).inc()


def metrics() -> Metrics:
    """This process's metrics, made on first use and listening to the business events."""
    global _metrics
    if _metrics is None:
        _metrics = Metrics()
        events.subscribe(_metrics.on_event)
    return _metrics


class OperationsCollector:
    """Gauges read at scrape time: ``read()`` answers ``{name: (help, value or None)}``."""

    def __init__(self, read: Callable[[], Mapping[str, tuple[str, float | None]]]):
        self.read = read

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            figures = self.read()
        except Exception:  # a scrape must not fail because the database cannot answer now (readiness says so)
            logging.getLogger(__name__).warning("operations figures unavailable", exc_info=True)
            figures = {}
        for name, (help_text, value) in figures.items():
            if value is not None:
                yield GaugeMetricFamily(name, help_text, value=float(value))


def exposition(gauges: Callable[[], Mapping[str, tuple[str, float | None]]]) -> bytes:
    """The text ``/metrics`` answers: every process's figures (or this one's) and the gauges."""
    registry = CollectorRegistry()
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Forward(metrics().registry))
    registry.register(OperationsCollector(gauges))
    return generate_latest(registry)


class _Forward:
    """This process's registry seen through another (so the gauges can be added beside it)."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self):
        return self.registry.collect()


class MeasuredProvider:
    """A payment provider whose calls are counted and timed; everything else passes through."""

    MEASURED = ("prepay", "query", "close", "refund", "query_refund", "statement")

    def __init__(self, provider: Any):
        self._provider = provider

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._provider, name)
        if name not in self.MEASURED or not callable(attr):
            return attr

        def measured(*args, **kwargs):
            m, code, started = metrics(), self._provider.code, time.perf_counter()
            outcome = "error"
            try:
                result = attr(*args, **kwargs)
                state = getattr(result, "state", None)
                outcome = getattr(state, "value", None) or "ok"
                return result
            finally:
                m.provider_calls.labels(code, name, outcome).inc()
                m.provider_seconds.labels(code, name).observe(time.perf_counter() - started)

        return measured
