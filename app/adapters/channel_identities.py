"""Which person a channel user said was themself (``channel_identity``), over SQLAlchemy Core.

One row per channel and channel user; identifying oneself again (say, after a typo the first
time) moves the row to the new person. Upsert on PostgreSQL and SQLite alike.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from app.adapters import tables as t


class SqlChannelIdentities:
    def __init__(self, engine: Engine):
        self.engine = engine

    def bind_self(self, channel: str, channel_user: str, person_id: int, at: datetime) -> None:
        insert = (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(t.channel_identity)
        statement = insert.values(channel=channel, channel_user=channel_user, person_id=person_id,
                                  created_at=at, updated_at=at)
        statement = statement.on_conflict_do_update(index_elements=["channel", "channel_user"],
                                                    set_={"person_id": person_id, "updated_at": at})
        with self.engine.begin() as conn:
            conn.execute(statement)

    def self_person(self, channel: str, channel_user: str) -> int | None:
        c = t.channel_identity.c
        with self.engine.connect() as conn:
            return conn.execute(select(c.person_id).where(c.channel == channel, c.channel_user == channel_user)
                                ).scalar_one_or_none()
