"""A pooled connection whose server side is gone is replaced before it is handed out, not failed on."""
from __future__ import annotations

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import bootstrap


def _terminate(url: str, pid: int) -> None:
    u = make_url(url)
    with psycopg.connect(f"host={u.host} port={u.port or 5432} user={u.username} dbname={u.database}",
                         autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_killed_while_idle_in_the_pool_is_replaced(database, monkeypatch):
    monkeypatch.setattr(bootstrap, "PING_AFTER_IDLE_SECONDS", -1.0)  # any idle time counts: ping every checkout
    engine = bootstrap.make_engine(database)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        _terminate(database, first)  # a server restart, as the pooled connection sees it
        with engine.connect() as conn:
            second = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert second != first
    finally:
        engine.dispose()


def test_a_connection_back_from_recent_use_is_handed_out_without_a_ping(database, monkeypatch):
    monkeypatch.setattr(bootstrap, "PING_AFTER_IDLE_SECONDS", 3600.0)
    engine = bootstrap.make_engine(database)
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_conn: pings.append(1) or real_ping(dbapi_conn))
    try:
        with engine.connect() as conn:  # a new connection is pinged once
            conn.execute(text("SELECT 1"))
        pinged_at_first = len(pings)
        with engine.connect() as conn:  # checked in a moment ago
            conn.execute(text("SELECT 2"))
        assert len(pings) == pinged_at_first
    finally:
        engine.dispose()
