"""The composition root: the one place that builds concrete adapters from settings.

Tests pass fakes (a fixed clock, say) through ``overrides``; nothing else constructs an
engine, a Redis client or a provider.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import redis as redis_lib
from sqlalchemy import Engine, create_engine, event

from app.adapters.clock import RandomNoticeNumbers, SystemClock
from app.adapters.crypto import FieldCipher
from app.adapters.policy_files import load_policy_book
from app.adapters.repositories import SqlUnitOfWork
from app.adapters.sessions import MemorySessions, RedisSessions
from app.domain.policy import PolicyBook


@dataclass
class Container:
    """Everything the views, CLI and jobs hand to the services."""

    engine: Engine
    cipher: FieldCipher
    policies: PolicyBook
    clock: Any
    sessions: Any
    notices: Any
    redis: Any = None
    settings: Mapping[str, Any] = field(default_factory=dict)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.cipher)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # foreign keys are off by default in SQLite
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def build_container(settings: Mapping[str, Any], **overrides) -> Container:
    redis_client = redis_lib.Redis.from_url(settings["REDIS_URL"]) if settings.get("REDIS_URL") else None
    parts = dict(
        engine=make_engine(settings["DATABASE_URL"]),
        cipher=FieldCipher.from_settings(settings["ENCRYPTION_KEY"], settings["INDEX_KEY"]),
        policies=load_policy_book(settings["POLICY_DIR"]),
        clock=SystemClock(),
        sessions=RedisSessions(redis_client) if redis_client is not None else MemorySessions(),
        notices=RandomNoticeNumbers(),
        redis=redis_client,
        settings=settings,
    )
    parts.update(overrides)
    return Container(**parts)
