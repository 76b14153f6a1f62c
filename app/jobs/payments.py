"""RQ jobs for payments: re-query open orders, close expired ones, settle pending refunds.

The cron scheduler (``flask jobs scheduler``) enqueues ``requery_orders`` every minute on the
``payments`` queue; ``flask jobs worker`` runs it. A worker process builds its app once.
"""
from __future__ import annotations

from rq import Queue
from rq.cron import CronScheduler

from app.services import settlement

QUEUE = "payments"
REQUERY_INTERVAL_SECONDS = 60
_container = None


def use_container(container) -> None:
    """Run jobs in this process against the given container (the worker's app, or a test's)."""
    global _container
    _container = container


def _current():
    global _container
    if _container is None:
        from app.factory import create_app  # a worker process builds its app on its first job

        _container = create_app().extensions["sbf"]
    return _container


def requery_orders(min_age_seconds: int = 60) -> dict:
    """Ask providers about orders left open and refunds left pending."""
    c = _current()
    return settlement.requery_open_orders(c.uow(), c.providers, c.clock, c.numbers, min_age_seconds=min_age_seconds)


def queue(redis_client) -> Queue:
    return Queue(QUEUE, connection=redis_client)


def build_scheduler(redis_client, interval_seconds: int = REQUERY_INTERVAL_SECONDS,
                    min_age_seconds: int = 60) -> CronScheduler:
    """The cron scheduler: ``requery_orders`` every ``interval_seconds`` (settings ``REQUERY_*``)."""
    scheduler = CronScheduler(connection=redis_client, name="sbf-payments")
    scheduler.register(requery_orders, QUEUE, kwargs={"min_age_seconds": int(min_age_seconds)},
                       interval=int(interval_seconds), name="requery_orders")
    return scheduler
