"""Jobs carry the request id of the request that enqueued them; the worker logs under it.

``enqueue(queue, func, ...)`` stores the current request id in the job's meta. The worker
(``RequestIdWorker``) sets it — or ``job-<id>`` for jobs the cron scheduler enqueued — on every
log line of the job, and names the job as the accessor and purpose of any personal data it
reads. It is RQ's ``SimpleWorker`` (no fork per job): our jobs are our own code, the app and
its connection pool are built once, and under ``PROMETHEUS_MULTIPROC_DIR`` one process keeps
one metrics file instead of one per job.
"""
from __future__ import annotations

from typing import Any, Callable

from rq import Queue, SimpleWorker

from app.adapters.personal_data_log import AccessContext, reset_context, set_context
from app.observability.logs import request_id_var


def enqueue(queue: Queue, func: Callable | str, *args: Any, **kwargs: Any):
    """``queue.enqueue`` with the current request id handed to the job."""
    meta = dict(kwargs.pop("meta", None) or {})
    if request_id_var.get():
        meta.setdefault("request_id", request_id_var.get())
    return queue.enqueue(func, *args, meta=meta, **kwargs)


class RequestIdWorker(SimpleWorker):
    """Runs each job under its request id and as its own personal-data accessor."""

    def perform_job(self, job, queue, execution) -> bool:
        rid = (job.meta or {}).get("request_id") or f"job-{job.id}"
        name = job.func_name or "job"
        rid_token = request_id_var.set(rid)
        access_token = set_context(AccessContext(who=lambda: ("job", f"rq:{queue.name}"), purpose=f"job {name}",
                                                 request_id=rid))
        try:
            return super().perform_job(job, queue, execution)
        finally:
            reset_context(access_token)
            request_id_var.reset(rid_token)
