"""RQ jobs for payments: re-query open orders, close expired ones, settle pending refunds.

The cron scheduler (``flask jobs scheduler``) enqueues ``requery_orders`` every minute on the
``payments`` queue; ``flask jobs worker`` runs it. A worker process builds its container once,
from the composition root (never through the app factory, which would import this module back).
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
        from app.bootstrap import build_container
        from config.settings import load_settings

        _container = build_container(load_settings())  # a worker process started by ``rq worker``
    return _container


def requery_orders(min_age_seconds: int = 60) -> dict:
    """Ask providers about orders left open and refunds left pending."""
    c = _current()
    return settlement.requery_open_orders(c.uow(), c.payments, min_age_seconds=min_age_seconds)


def queue(redis_client) -> Queue:
    return Queue(QUEUE, connection=redis_client)


def build_scheduler(redis_client) -> CronScheduler:
    scheduler = CronScheduler(connection=redis_client, name="sbf-payments")
    scheduler.register(requery_orders, QUEUE, interval=REQUERY_INTERVAL_SECONDS, name="requery_orders")
    return scheduler
