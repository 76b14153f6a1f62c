"""Liveness and readiness: each check named when it fails (PostgreSQL, migrations, Redis, policies, queue)."""
from __future__ import annotations

import json
from datetime import timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.factory import create_app
from app.jobs import payments as payment_jobs
from app.migrate import upgrade_database
from tests.conftest import reset_state
from tests.timeline import wall_now

POLICIES = Path(__file__).resolve().parent.parent.parent / "config" / "policies"


@pytest.fixture
def covered_policies(tmp_path):
    """The shipped policy files plus a 2027 table wherever one is missing, so today + 60 days is covered."""
    for path in POLICIES.glob("*.json"):
        policies = json.loads(path.read_text(encoding="utf-8"))["policies"]
        have = {(p["region"], p["year"], p["insurance"], p["category"]) for p in policies}
        for p in [p for p in policies if p["year"] == 2026]:
            if (p["region"], 2027, p["insurance"], p["category"]) not in have:
                policies.append({**p, "year": 2027, "collection_start": "2027-01-01", "collection_end": "2027-12-31"})
        (tmp_path / path.name).write_text(json.dumps({"policies": policies}, ensure_ascii=False), encoding="utf-8")
    return str(tmp_path)


def ready(app):
    answer = app.test_client().get("/readyz")
    return answer.status_code, answer.json


def test_liveness_answers_without_asking_anything(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_ready_when_every_check_passes(settings, database, redis_client, clock, covered_policies):
    app = create_app(dict(settings, POLICY_DIR=covered_policies), clock=clock)
    reset_state(app, redis_client)
    status, body = ready(app)
    assert status == 200, body
    assert body["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok", "policies": "ok",
                              "job_queue": "ok"}


def test_missing_policy_tables_for_the_next_sixty_days_are_named(settings, database, redis_client, clock, tmp_path):
    policies = json.loads((POLICIES / "qingdao.json").read_text(encoding="utf-8"))["policies"]
    without_2027 = [p for p in policies if p["year"] < 2027]
    (tmp_path / "qingdao.json").write_text(json.dumps({"policies": without_2027}, ensure_ascii=False), encoding="utf-8")
    app = create_app(dict(settings, POLICY_DIR=str(tmp_path)), clock=clock)
    reset_state(app, redis_client)
    status, body = ready(app)  # 2027's collection opens on 2027-01-01, within 60 days of 2026-11-23
    assert status == 503 and body["code"] == "not_ready"
    assert "policies" in body["message"] and list(body["errors"]) == ["policies"]
    assert "370200/2027/pension/flexible" in body["errors"]["policies"]


def test_an_unreachable_database_fails_the_database_check(settings, redis_client, clock, covered_policies):
    url = make_url(settings["DATABASE_URL"]).set(port=1).render_as_string(hide_password=False)
    app = create_app(dict(settings, DATABASE_URL=url, POLICY_DIR=covered_policies), clock=clock)
    status, body = ready(app)
    assert status == 503
    assert set(body["errors"]) == {"database", "migrations"}
    assert body["errors"]["migrations"] == "skipped: database unreachable"
    assert body["checks"]["redis"] == "ok"


def test_a_schema_behind_the_code_fails_the_migrations_check(settings, redis_client, clock, covered_policies):
    url = make_url(settings["DATABASE_URL"])
    name = f"{url.database}_behind"
    admin = f"host={url.host} port={url.port or 5432} user={url.username} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    behind = url.set(database=name).render_as_string(hide_password=False)
    upgrade_database(behind, "0005")
    app = create_app(dict(settings, DATABASE_URL=behind, POLICY_DIR=covered_policies), clock=clock)
    status, body = ready(app)
    assert status == 503
    assert list(body["errors"]) == ["migrations"]
    assert "schema at ['0005']" in body["errors"]["migrations"]
    app.extensions["sbf"].engine.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_an_unreachable_redis_fails_the_redis_check(settings, database, clock, covered_policies):
    app = create_app(dict(settings, REDIS_URL="redis://127.0.0.1:1/0", POLICY_DIR=covered_policies), clock=clock)
    status, body = ready(app)
    assert status == 503 and "redis" in body["errors"] and "job_queue" in body["errors"]


def test_a_job_waiting_longer_than_allowed_means_the_queue_is_stalled(settings, database, redis_client, clock,
                                                                        covered_policies):
    app = create_app(dict(settings, POLICY_DIR=covered_policies, READY_QUEUE_STALL_SECONDS=60), clock=clock)
    reset_state(app, redis_client)
    job = payment_jobs.queue(redis_client).enqueue(payment_jobs.requery_orders)
    assert ready(app)[0] == 200  # just enqueued: not stalled
    job.enqueued_at = wall_now().astimezone(timezone.utc) - timedelta(seconds=61)  # RQ stores UTC
    job.save()
    status, body = ready(app)
    assert status == 503 and list(body["errors"]) == ["job_queue"]
    assert "is a worker running?" in body["errors"]["job_queue"]
