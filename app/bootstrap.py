"""The composition root: the one place that builds concrete adapters from settings.

Tests pass fakes (a fixed clock, say) through ``overrides``; nothing else constructs an
engine, a Redis client or a provider.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import redis as redis_lib
from sqlalchemy import Engine, create_engine, event

from app.adapters.clock import RandomNoticeNumbers, RandomNumbers, SystemClock
from app.adapters.crypto import FieldCipher
from app.adapters.policy_files import load_policy_book
from app.adapters.repositories import SqlUnitOfWork
from app.adapters.sessions import MemorySessions, RedisSessions
from app.domain.policy import PolicyBook
from app.services.orders import PaymentSettings
from app.observability.metrics import measured_providers
from payments.registry import build_providers


@dataclass
class Container:
    """Everything the views, CLI and jobs hand to the services."""

    engine: Engine
    cipher: FieldCipher
    policies: PolicyBook
    clock: Any
    sessions: Any
    notices: Any
    providers: Mapping[str, Any] = field(default_factory=dict)
    numbers: Any = None
    payment_settings: PaymentSettings | None = None
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
        numbers=RandomNumbers(),
        payment_settings=PaymentSettings(notify_base_url=settings["PUBLIC_BASE_URL"],
                                         channel_methods=settings["CHANNEL_PAYMENT_METHODS"],
                                         expiry_minutes=int(settings["ORDER_EXPIRY_MINUTES"]),
                                         provider_expiry_minutes=settings["PROVIDER_EXPIRY_MINUTES"],
                                         return_url=settings["PUBLIC_BASE_URL"] + "/h5/orders/{order_no}"),
        redis=redis_client,
        settings=settings,
    )
    parts.update(overrides)
    if "providers" not in overrides:
        parts["providers"] = measured_providers(build_providers(provider_settings(settings)))
    return Container(**parts)


def provider_settings(settings: Mapping[str, Any]) -> dict:
    """The configured providers, or the local sandbox gateways when none are configured."""
    if settings.get("PAYMENT_PROVIDERS"):
        return {code: (path, kwargs) for code, (path, kwargs) in settings["PAYMENT_PROVIDERS"].items()}
    from payments.sandbox.wiring import sandbox_provider_settings  # the one place the core meets the sandboxes

    return sandbox_provider_settings(settings["SANDBOX_KEY_DIR"], settings["SANDBOX_URLS"],
                                     settings["PUBLIC_BASE_URL"], settings["COUNTER_BANK_KEYS"])
