"""gunicorn settings of the web process: ``gunicorn wsgi:app`` from this directory reads them
(``-c gunicorn.conf.py`` says so explicitly).

Requests gunicorn refuses before the app sees them — a request line or headers past the limits
below — are answered in the app's error shape, in Chinese (``app/gunicorn_worker.py``).

Bind, workers, threads and timeout can be changed with ``SBF_BIND``, ``SBF_WEB_WORKERS``,
``SBF_WEB_THREADS`` and ``SBF_WEB_TIMEOUT``. Metrics run in prometheus-client's multiprocess
mode: every worker writes to ``PROMETHEUS_MULTIPROC_DIR`` (default ``<tmp>/sbf-metrics``, made
here before any worker imports the client) and ``/metrics`` adds them up; a worker that exits is
marked dead. Logs are JSON lines on stderr (gunicorn's own too); there is no access log: the app
writes one JSON line per request, with its request id. The settings are checked in the master
before any worker starts, so bad settings stop it with one message listing each problem.
"""
import multiprocessing
import os
import tempfile

bind = os.environ.get("SBF_BIND", "0.0.0.0:8000")
# One process per core, eight threads each: the requests wait on PostgreSQL, Redis and the providers
# more than they compute, and on 2 cores the bench's full pay flow ran 1.5-1.9 x faster, at 30 %
# less CPU per flow, with 2 x 8 than with 4 x 4 (bench/README.md); more processes than cores only
# add switching and connections.
workers = int(os.environ.get("SBF_WEB_WORKERS", multiprocessing.cpu_count()))
worker_class = "app.gunicorn_worker.ChineseErrorsThreadWorker"  # gthread, with our error answers
threads = int(os.environ.get("SBF_WEB_THREADS", "8"))
timeout = int(os.environ.get("SBF_WEB_TIMEOUT", "30"))
limit_request_line = 4094  # bytes of method + URL + version (gunicorn's default): beyond it, 414
limit_request_fields = 100  # headers per request (the default): beyond it, 431
limit_request_field_size = 8190  # bytes of one header (the default): beyond it, 431
graceful_timeout = 30
keepalive = 5
accesslog = None
errorlog = "-"
control_socket_disable = True  # not used; two services on one machine would share its default path
forwarded_allow_ips = ""  # the app decides whom to believe (TRUSTED_PROXY_COUNT, werkzeug's ProxyFix)

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), "sbf-metrics"))
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "app.observability.logs.ScrubbingJsonFormatter",
                            "fmt": "{asctime}{levelname}{name}{message}", "style": "{",
                            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {"gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}


def on_starting(server):
    """Check the settings once, in the master, before any worker starts: one clear message, then exit."""
    import sys

    from config.settings import load_settings
    from config.sources import SettingsError

    if not os.environ.get("SBF_SETTINGS"):  # not a deployment (a test serving its own app): the app checks itself
        return
    try:
        load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr, flush=True)
        sys.exit(1)


def post_worker_init(worker):
    """Providers and channels are built on first use; a web worker builds them before it serves."""
    from app.gunicorn_worker import warm_worker_app

    warm_worker_app(worker)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
