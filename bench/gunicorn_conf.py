"""gunicorn settings of the bench run; the command line gives bind, workers and threads.

Each worker says when its app is loaded (a file named after its pid in ``BENCH_READY_DIR``), so
the load starts once every worker serves, not while some are still building their app.
"""
import os
from pathlib import Path


def post_worker_init(worker):
    from app.gunicorn_worker import warm_worker_app

    warm_worker_app(worker)  # as gunicorn.conf.py: providers and channels built before the worker serves
    ready = os.environ.get("BENCH_READY_DIR")
    if ready:
        Path(ready, str(worker.pid)).touch()
