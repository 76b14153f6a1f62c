"""Liveness (``/healthz``: the process answers) and readiness (``/readyz``), checks named.

Readiness checks, in order, each answering ``None`` (fine) or why not:

* ``database``   — PostgreSQL answers ``SELECT 1``;
* ``migrations`` — the schema is at every Alembic head of ``migrations/``;
* ``redis``      — Redis answers PING (skipped without ``REDIS_URL``, the zero-setup run);
* ``policies``   — no policy table that a collection opening within ``READY_POLICY_DAYS_AHEAD``
  days needs is missing (the rule of ``flask policies check --ahead 60d``);
* ``job_queue``  — the oldest job waiting on the payments queue has waited less than
  ``READY_QUEUE_STALL_SECONDS`` (workers are taking jobs).

``/readyz`` answers 200 when all pass, else 503 in the one error shape with the failing
checks named in ``errors``.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError

from app.migrate import alembic_config

Check = Callable[[Any], "str | None"]


def check_database(c) -> str | None:
    with c.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return None


def check_migrations(c) -> str | None:
    from alembic.script import ScriptDirectory  # imported when readiness is asked, not at start-up

    heads = set(ScriptDirectory.from_config(alembic_config(str(c.engine.url))).get_heads())
    with c.engine.connect() as conn:  # read the version table itself: Alembic's context logs on every probe
        try:
            current = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
        except (OperationalError, ProgrammingError):  # no version table: nothing migrated yet
            current = set()
    if current != heads:
        return f"schema at {sorted(current) or 'nothing'}, code expects {sorted(heads)}: run `flask --app wsgi migrate`"
    return None


def check_redis(c) -> str | None:
    if c.redis is None:
        return None
    c.redis.ping()
    return None


def check_policies(c) -> str | None:
    """The same rule as ``flask policies check --ahead 60d`` (``PolicyBook.missing_ahead``)."""
    ahead = int(c.settings.get("READY_POLICY_DAYS_AHEAD", 60))
    if not c.policies.all():
        return "no policy tables loaded"
    missing = c.policies.missing_ahead(c.clock.today(), ahead)
    described = ", ".join(f"{m.region}/{m.year}/{m.insurance}/{m.category}" for m in missing[:10])
    return f"missing for today + {ahead} days: {described}" if missing else None


def check_job_queue(c) -> str | None:
    if c.redis is None:
        return None
    from app.jobs import payments as payment_jobs

    queue = payment_jobs.queue(c.redis)
    oldest = queue.get_job_ids(0, 1)
    if not oldest:
        return None
    job = queue.fetch_job(oldest[0])
    if job is None or job.enqueued_at is None:
        return None
    enqueued = job.enqueued_at if job.enqueued_at.tzinfo else job.enqueued_at.replace(tzinfo=timezone.utc)
    waited = (datetime.now(timezone.utc) - enqueued).total_seconds()
    limit = int(c.settings.get("READY_QUEUE_STALL_SECONDS", 300))
    if waited > limit:
        return f"{queue.count} jobs waiting, the oldest for {int(waited)} s (limit {limit} s): is a worker running?"
    return None


CHECKS: dict[str, Check] = {"database": check_database, "migrations": check_migrations, "redis": check_redis,
                            "policies": check_policies, "job_queue": check_job_queue}
NEEDS_DATABASE = ("migrations",)


def readiness(container) -> dict[str, str | None]:
    """Each check's problem, or None; a check that raises fails with the error's class and text."""
    results: dict[str, str | None] = {}
    for name, check in CHECKS.items():
        if name in NEEDS_DATABASE and results.get("database"):
            results[name] = "skipped: database unreachable"
            continue
        try:
            results[name] = check(container)
        except Exception as error:  # the check's failure is the answer
            results[name] = f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
    return results
