"""Upgrading a database with money in flight: open orders and pending refunds get their calls."""
from __future__ import annotations

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.migrate import upgrade_database

SEED = [
    "INSERT INTO person (id, id_type, id_number_index, id_number_enc, name_enc, created_at) "
    "VALUES (1, 'resident_id', 'x', :b, :b, CURRENT_TIMESTAMP)",
    "INSERT INTO payment_order (id, order_no, channel, provider, method, amount_fen, state, description, created_at, "
    "expires_at, version) VALUES (1, 'O-OPEN', 'api', 'wechatpay', 'native', 100, 'paying', 'd', CURRENT_TIMESTAMP, "
    "CURRENT_TIMESTAMP, 0), (2, 'O-REFUNDING', 'api', 'alipay', 'qr', 300, 'refunding', 'd', CURRENT_TIMESTAMP, "
    "CURRENT_TIMESTAMP, 2), (3, 'O-POSTED', 'api', 'alipay', 'qr', 300, 'posted', 'd', CURRENT_TIMESTAMP, "
    "CURRENT_TIMESTAMP, 3)",
    "INSERT INTO refund (refund_no, order_id, amount_fen, reason, state, created_at) "
    "VALUES ('R-1', 2, 300, 'order_closed', 'pending', CURRENT_TIMESTAMP)",
]


def _upgrade_with_money_in_flight(url: str) -> list:
    upgrade_database(url, "0005")
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in SEED:
            conn.execute(text(statement), {"b": b"x"})
    upgrade_database(url, "i11_02")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, provider, key, order_no, state, step, request FROM provider_call "
                                 "ORDER BY kind")).all()
    engine.dispose()
    return rows


def _check(rows) -> None:
    import json

    assert [(r.kind, r.provider, r.key, r.order_no, r.state, r.step) for r in rows] == [
        ("query", "wechatpay", "O-OPEN", "O-OPEN", "pending", None),
        ("refund", "alipay", "R-1", "O-REFUNDING", "pending", "ask")]
    request = rows[1].request if isinstance(rows[1].request, dict) else json.loads(rows[1].request)
    assert request["refund_no"] == "R-1" and request["amount_fen"] == 300 and request["total_fen"] == 300


def test_open_orders_and_pending_refunds_get_their_calls_on_sqlite(tmp_path):
    _check(_upgrade_with_money_in_flight(f"sqlite:///{tmp_path / 'upgrade.db'}"))


def test_open_orders_and_pending_refunds_get_their_calls_on_postgresql(settings):
    url = make_url(settings["DATABASE_URL"])
    scratch = url.set(database=url.database + "_upgrade")
    admin = f"host={url.host} port={url.port or 5432} user={url.username} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{scratch.database}"')
    try:
        _check(_upgrade_with_money_in_flight(scratch.render_as_string(hide_password=False)))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)')


