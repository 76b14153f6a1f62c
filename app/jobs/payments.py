"""RQ jobs for payments: run the provider calls that are due (re-queries, closes, refunds).

The cron scheduler (``flask jobs scheduler``) enqueues ``run_provider_calls`` every minute on
the ``payments`` queue, and the daily reconciliation (``app.jobs.reconcile``) once a day;
``flask jobs worker`` runs them, and a refund recorded by a notification
enqueues a run at once (``Waker``). Without Redis (the zero-setup run) the same job runs in a
thread of the serving process, woken the same way. A worker process builds its container
once, from the composition root (never through the app factory, which imports this module).
RQ is imported when a queue or the scheduler is first made: the composition root imports this
module for ``Waker``, and a process that never enqueues (the bulk declaration) need not load RQ.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from app.services import call_worker

if TYPE_CHECKING:
    from rq import Queue
    from rq.cron import CronScheduler

QUEUE = "payments"
RUN_INTERVAL_SECONDS = 60
JOB = "app.jobs.payments.run_provider_calls"
log = logging.getLogger(__name__)
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


def run_provider_calls() -> dict:
    """Run every provider call that is due: re-query open orders, close expired ones, send refunds."""
    c = _current()
    return call_worker.run_due_calls(c.uow(), c.payments)


requery_orders = run_provider_calls  # the name schedulers registered before provider calls existed


class Waker:
    """Tells the call worker that something is due now: wakes the in-process runner, or enqueues a run."""

    def __init__(self, redis_client=None):
        self.event = threading.Event()
        self.redis = redis_client

    def __call__(self) -> None:
        self.event.set()
        if self.redis is not None:
            try:
                from app.observability.jobs import enqueue  # the run logs under the waking request's id

                enqueue(queue(self.redis), JOB)
            except Exception:  # the scheduled run comes within a minute anyway
                log.warning("could not enqueue a provider-call run", exc_info=True)


def start_in_process_runner(container, interval: float = RUN_INTERVAL_SECONDS) -> threading.Thread:
    """Without Redis, due calls run in a thread of this process: every interval, or when woken."""
    use_container(container)
    waker = container.payments.wake
    event = waker.event if isinstance(waker, Waker) else threading.Event()

    def loop():
        while True:
            event.wait(interval)
            event.clear()
            try:
                run_provider_calls()
            except Exception:  # keep the loop alive; the next run tries again
                log.exception("provider-call run failed")

    thread = threading.Thread(target=loop, name="provider-calls", daemon=True)
    thread.start()
    return thread


def queue(redis_client) -> Queue:
    from rq import Queue

    return Queue(QUEUE, connection=redis_client)


def build_scheduler(redis_client, interval_seconds: int = RUN_INTERVAL_SECONDS) -> CronScheduler:
    """``run_provider_calls`` every ``interval_seconds`` (the setting ``PROVIDER_CALL_RUN_SECONDS``)."""
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=redis_client, name="sbf-payments")
    scheduler.register(run_provider_calls, QUEUE, interval=int(interval_seconds), name="run_provider_calls")
    from app.jobs import batch_debit  # 统一扣款: daily run and the follow-up of unfinished batches

    batch_debit.schedule(scheduler, QUEUE)
    from app.jobs.reconcile import RECONCILE_CRON, RECONCILE_TIMEOUT_SECONDS, reconcile_due_days

    scheduler.register(reconcile_due_days, QUEUE, cron=RECONCILE_CRON, name="reconcile_due_days",
                       job_timeout=RECONCILE_TIMEOUT_SECONDS)
    from app.jobs.reminders import REMINDER_CRON, send_reminders_daily  # 催缴提醒

    scheduler.register(send_reminders_daily, QUEUE, cron=REMINDER_CRON, name="send_reminders_daily")
    return scheduler
