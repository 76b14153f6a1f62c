"""Shared fixtures: the Flask app on PostgreSQL + Redis (the test command's real parts)."""
from __future__ import annotations


import psycopg
import pytest
import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.adapters.clock import FixedClock
from app.adapters.tables import metadata
from app.migrate import upgrade_database
from config.settings import load_settings
from tests.timeline import TODAY  # noqa: F401 (tests import TODAY from here too)


@pytest.fixture(scope="session")
def settings():
    return load_settings("testing")


@pytest.fixture(scope="session")
def database(settings):
    """A fresh test database, created on the local PostgreSQL and migrated once per run."""
    url = make_url(settings["DATABASE_URL"])
    admin = f"host={url.host} port={url.port or 5432} user={url.username} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{url.database}"')
    upgrade_database(settings["DATABASE_URL"])
    return settings["DATABASE_URL"]


@pytest.fixture(scope="session")
def redis_client(settings):
    client = redis.Redis.from_url(settings["REDIS_URL"])
    client.ping()
    return client


@pytest.fixture
def clock():
    return FixedClock(TODAY)


def reset_state(app, redis_client) -> None:
    """Empty every table and the test Redis database before a test."""
    with app.extensions["sbf"].engine.begin() as conn:
        names = ", ".join(t.name for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    redis_client.flushdb()


@pytest.fixture
def app(settings, database, redis_client, clock):
    """The app on PostgreSQL and Redis, with the fake provider (tests of real providers wire their sandboxes)."""
    from app.factory import create_app
    from payments.fake.provider import FakeProvider

    methods = {**settings["CHANNEL_PAYMENT_METHODS"], "api": settings["CHANNEL_PAYMENT_METHODS"]["api"] + ["fake.qr"]}
    app = create_app(dict(settings, CHANNEL_PAYMENT_METHODS=methods), clock=clock, providers={"fake": FakeProvider()})
    reset_state(app, redis_client)
    yield app
    app.extensions["sbf"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def container(app):
    return app.extensions["sbf"]
