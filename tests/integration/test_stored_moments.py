"""The one rule for time: stored as aware UTC, shown in Beijing time, on SQLite as on PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text

from app.adapters.clock import FixedClock
from app.adapters.utc_datetime import UtcDateTime
from app.domain.zone import SHANGHAI, local_iso, local_minute, shanghai_date

JUST_BEFORE_MIDNIGHT_UTC = datetime(2026, 11, 23, 23, 40, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def moments(request, database):
    url = "sqlite://" if request.param == "sqlite" else database
    engine = create_engine(url)
    meta = MetaData()
    table = Table("moment_probe", meta, Column("id", Integer, primary_key=True), Column("at", UtcDateTime()))
    meta.drop_all(engine)
    meta.create_all(engine)
    yield engine, table
    meta.drop_all(engine)
    engine.dispose()


def test_a_beijing_moment_is_stored_as_utc_and_read_back_as_the_same_instant(moments):
    engine, table = moments
    beijing = JUST_BEFORE_MIDNIGHT_UTC.astimezone(SHANGHAI)
    with engine.begin() as conn:
        conn.execute(insert(table).values(id=1, at=beijing))
        stored = conn.execute(select(table.c.at)).scalar_one()
        raw = conn.execute(text("SELECT CAST(at AS TEXT) FROM moment_probe")).scalar_one()
    assert stored == JUST_BEFORE_MIDNIGHT_UTC and stored.utcoffset().total_seconds() == 0
    if engine.dialect.name == "sqlite":  # no offset kept there: the text itself must be UTC
        assert raw.startswith("2026-11-23 23:40")
    assert local_iso(stored) == "2026-11-24T07:40:00+08:00" and local_minute(stored) == "2026-11-24 07:40"
    assert shanghai_date(stored).isoformat() == "2026-11-24"


def test_a_naive_moment_is_refused_rather_than_guessed(moments):
    engine, table = moments
    with pytest.raises(Exception, match="naive"):
        with engine.begin() as conn:
            conn.execute(insert(table).values(id=2, at=datetime(2026, 11, 23, 23, 40)))


def test_the_fixed_clock_answers_beijings_day_for_a_utc_moment():
    clock = FixedClock(JUST_BEFORE_MIDNIGHT_UTC)
    assert clock.today().isoformat() == "2026-11-24" and clock.now().tzinfo is SHANGHAI
