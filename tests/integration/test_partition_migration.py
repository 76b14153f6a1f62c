"""The partitioning migration, up and down, with paid money pointing at assessments of two years."""
from __future__ import annotations

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.adapters.bulk_sql import SqlBulkDeclarations
from app.migrate import alembic_config, upgrade_database

BEFORE = "i17a_01"
SEED = [
    "INSERT INTO person (id, id_type, id_number_index, id_number_enc, name_enc, created_at) "
    "VALUES (1, 'resident_id', 'x', :b, :b, CURRENT_TIMESTAMP)",
    "INSERT INTO enrollment (id, person_id, insurance, region, category, insured_number, start_month, status, "
    "source_bureau, created_at) VALUES (1, 1, 'medical', '520000', 'resident', 'R1', '2020-01', 'active', 'medical', "
    "CURRENT_TIMESTAMP)",
    "INSERT INTO assessment (id, enrollment_id, person_id, insurance, region, period_start, period_end, amount_fen, "
    "kind, notice_number, state, declared_at) VALUES (1, 1, 1, 'medical', '520000', '2026-01-01', '2026-12-31', "
    "42000, 'regular', 'N1', 'paid', CURRENT_TIMESTAMP)",
    "INSERT INTO payment_order (id, order_no, channel, provider, method, amount_fen, state, description, created_at, "
    "expires_at, version) VALUES (1, 'O-1', 'api', 'wechatpay', 'native', 42000, 'posted', 'd', CURRENT_TIMESTAMP, "
    "CURRENT_TIMESTAMP, 3)",
    "INSERT INTO order_item (order_id, assessment_id, person_id, amount_fen, live) VALUES (1, 1, 1, 42000, true)",
    "INSERT INTO payment (order_id, assessment_id, e_ticket_number, amount_fen, posted_at) "
    "VALUES (1, 1, 'E1', 42000, CURRENT_TIMESTAMP)",
]
YEAR_2027 = ("INSERT INTO {table} (id, enrollment_id, person_id, insurance, region, period_start, period_end, "
             "amount_fen, kind, notice_number, state, declared_at) VALUES (2, 1, 1, 'medical', '520000', '2027-01-01', "
             "'2027-12-31', 42000, 'regular', 'N2', 'declared_unpaid', CURRENT_TIMESTAMP)")


@pytest.fixture
def scratch(settings):
    url = make_url(settings["DATABASE_URL"])
    scratch = url.set(database=url.database + "_partitions")
    admin = f"host={url.host} port={url.port or 5432} user={url.username} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{scratch.database}"')
    yield scratch.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)')


def test_existing_rows_stay_put_in_the_default_partition_and_come_back_on_downgrade(scratch):
    upgrade_database(scratch, BEFORE)
    engine = create_engine(scratch)
    with engine.begin() as conn:
        for statement in SEED:
            conn.execute(text(statement), {"b": b"x"})
    upgrade_database(scratch)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT tableoid::regclass::text FROM assessment")).scalar_one() == "assessment_default"
        assert conn.execute(text("SELECT assessment_period_start FROM payment")).scalar_one().year == 2026
    store = SqlBulkDeclarations(engine)  # a year built apart and attached, as the bulk declaration does
    with store:
        store.exclude_year_from_default(2027)
        store.commit()
        assert store.validate_year_excluded(2027)
        store.conn.execute(text(YEAR_2027.format(table=store.create_year_table(2027))))
        for step in (store.index_year, store.key_year, store.attach_year):
            step(2027)
        store.commit()
    engine.dispose()

    command.downgrade(alembic_config(scratch), BEFORE)

    engine = create_engine(scratch)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, extract(year FROM period_start)::int FROM assessment ORDER BY id")
                            ).all() == [(1, 2026), (2, 2027)]
        assert conn.execute(text("SELECT relkind FROM pg_class WHERE relname = 'assessment'")).scalar_one() == "r"
        assert conn.execute(text("SELECT count(*) FROM order_item JOIN payment USING (assessment_id)")).scalar_one() == 1
    engine.dispose()
    upgrade_database(scratch)  # and up again
