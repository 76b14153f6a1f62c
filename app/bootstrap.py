"""The composition root: the one place that builds concrete adapters, providers and channels.

``build_container(settings, **overrides)`` builds everything once per app and binds it into
small typed groups the services take (``PaymentPorts``, ``ChannelPorts``), so views, the CLI
and jobs pass request data plus one group, never a dozen loose parts. Tests pass fakes (a
fixed clock, say) through ``overrides``; nothing else constructs an engine, a Redis client, a
provider or a channel. Channels come from ``CHANNELS`` (``{code: (factory, kwargs)}``, like the
payment providers); when it is empty, those in ``SANDBOX_CHANNELS`` are wired to the local
identity sandboxes. Providers and channels are built on first use, each provider when its code is
first asked for: their SDKs and keys are most of a process's start-up memory, and a command that
never pays (the bulk declaration, a migration) never needs them. A web worker builds them all
before it serves (``Container.warm``, from the gunicorn settings), so a bad key still stops it at
start and no payer waits for an SDK to load.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

import redis as redis_lib
from sqlalchemy import Engine, create_engine, event, exc

from app.adapters.channel_identities import SqlChannelIdentities
from app.adapters.channel_sessions import MemoryChannelSessions, RedisChannelSessions
from app.adapters.clock import RandomNoticeNumbers, RandomNumbers, SystemClock
from app.adapters.crypto import FieldCipher
from app.adapters.documents import Documents
from app.adapters.batch_debit_sql import SqlBatchDebits
from app.adapters.passwords import Argon2Hasher
from app.adapters.sms import SandboxSmsInbox
from app.domain.payment_password import PasswordRules
from app.adapters.policy_files import load_policy_book
from app.adapters.reconciliation_sql import SqlReconciliationBook
from app.adapters.repositories import SqlUnitOfWork
from app.adapters.sessions import MemorySessions, RedisSessions
from app.domain.policy import PolicyBook
from app.jobs.payments import Waker
from app.services.batch_debit import BatchStore
from app.observability.metrics import MeasuredProvider
from app.services.certificates import CertificateSettings
from app.services.channel_sessions import ChannelPorts, ChannelSettings
from app.services.orders import PaymentPorts, PaymentSettings
from app.services.ports import (Clock, DocumentRenderer, IdentificationSessions, NoticeNumbers, Numbers,
                                PasswordHasher, Sms)
from channels.base import ChannelAdapter
from channels.registry import build_channels
from payments.bank import DebitBank
from payments.base import PaymentProvider
from payments.registry import build_provider


@dataclass
class Container:
    """Everything the views, CLI and jobs hand to the services, built once per app."""

    engine: Engine
    cipher: FieldCipher
    policies: PolicyBook
    clock: Clock
    sessions: IdentificationSessions
    notices: NoticeNumbers
    numbers: Numbers
    providers: Mapping[str, PaymentProvider]
    payments: PaymentPorts
    channels: ChannelPorts
    documents: DocumentRenderer
    certificates: CertificateSettings
    redis: redis_lib.Redis | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    # debit agreements: the bank (the agreement provider, looked up when first needed), SMS, payment
    # password hashing and rules
    find_bank: Callable[[], DebitBank | None] = lambda: None
    sms: Sms | None = None
    password_hasher: PasswordHasher | None = None
    password_rules: PasswordRules | None = None
    batch_store: Callable[[], BatchStore] | None = None  # 统一扣款's set-based store, one per transaction
    accounts: Any = None  # AccountDeps (app/bootstrap_accounts.py): accounts for the tax app and the web e-tax bureau
    backoffice: Any = None  # BackofficeDeps (app/bootstrap_backoffice.py): the bureau staff's back office

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.cipher)

    def reconciliation_book(self) -> SqlReconciliationBook:
        return SqlReconciliationBook(self.engine, int(self.settings.get("RECONCILIATION_PARALLEL_WORKERS", 0)))

    @property
    def payment_settings(self) -> PaymentSettings:
        return self.payments.settings

    @property
    def bank(self) -> DebitBank | None:
        """The debit-agreement bank, or None when none is configured."""
        return self.find_bank()

    def warm(self) -> None:
        """Build every provider and channel now, as a web worker does before it serves its first request."""
        for _ in self.providers.values():
            pass
        for _ in self.channels.channels.values():
            pass


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
    engine = create_engine(url, pool_size=10, max_overflow=10)
    _ping_after_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


# A connection that sat in the pool longer than this is pinged before it is handed out (one round
# trip); one in steady use is not: under load every request checks out several, and pinging each
# (``pool_pre_ping``) was a round trip per unit of work.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_after_idle(engine: Engine, seconds: float) -> None:
    """``pool_pre_ping`` for connections idle longer than ``seconds``: a dead one is replaced, not handed out."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):
        if time.monotonic() - record.info.get("idle_since", float("-inf")) <= seconds:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as error:  # the server went away meanwhile (a restart, a failover): take a new one
            if not engine.dialect.is_disconnect(error, dbapi_conn, None):
                raise
            alive = False
        if not alive:
            raise exc.DisconnectionError("the pooled connection is gone; the pool opens a new one")


# the parts a test may replace; the groups are bound from them afterwards
_REPLACEABLE = ("engine", "cipher", "policies", "clock", "sessions", "notices", "numbers", "providers", "redis",
                "documents", "bank", "sms", "password_hasher")


def build_container(settings: Mapping[str, Any], **overrides) -> Container:
    """Build every part once from settings; ``overrides`` replace parts before the groups are bound."""
    unknown = set(overrides) - set(_REPLACEABLE)
    if unknown:
        raise TypeError(f"cannot override {sorted(unknown)}")
    parts: dict[str, Any] = dict(overrides)
    if "redis" not in parts:
        parts["redis"] = redis_lib.Redis.from_url(settings["REDIS_URL"]) if settings.get("REDIS_URL") else None
    redis_client = parts["redis"]
    defaults: dict[str, Callable[[], Any]] = {
        "engine": lambda: make_engine(settings["DATABASE_URL"]),
        "cipher": lambda: FieldCipher.from_settings(settings["ENCRYPTION_KEY"], settings["INDEX_KEY"]),
        "policies": lambda: load_policy_book(settings["POLICY_DIR"]),
        "clock": SystemClock,
        "sessions": lambda: RedisSessions(redis_client) if redis_client is not None else MemorySessions(),
        "notices": RandomNoticeNumbers,
        "numbers": RandomNumbers,
        "providers": lambda: LazyProviders(lambda: provider_settings(settings), wrap=MeasuredProvider),
        "documents": lambda: Documents(font_paths=tuple(settings.get("CJK_FONT_PATHS") or ())),
        "sms": lambda: SandboxSmsInbox(redis_client, parts["clock"]),
        "password_hasher": Argon2Hasher,
    }
    for name, make in defaults.items():
        if name not in parts:
            parts[name] = make()
    public = settings["PUBLIC_BASE_URL"].rstrip("/")
    payments = PaymentPorts(providers=parts["providers"], clock=parts["clock"], numbers=parts["numbers"],
                            policies=parts["policies"], wake=Waker(redis_client), settings=PaymentSettings(
                                notify_base_url=settings["PUBLIC_BASE_URL"],
                                channel_methods=settings["CHANNEL_PAYMENT_METHODS"],
                                expiry_minutes=int(settings["ORDER_EXPIRY_MINUTES"]),
                                provider_expiry_minutes=settings["PROVIDER_EXPIRY_MINUTES"],
                                check_after_seconds=tuple(int(s) for s in settings["ORDER_CHECK_AFTER_SECONDS"]),
                                return_url=public + "/h5/orders/{order_no}"))
    channels = ChannelPorts(
        channels=LazyChannels(lambda: build_channels(channel_settings(settings))),
        sessions=RedisChannelSessions(redis_client) if redis_client is not None else MemoryChannelSessions(),
        identities=SqlChannelIdentities(parts["engine"]),
        settings=ChannelSettings(public_base_url=settings["PUBLIC_BASE_URL"],
                                 session_ttl_seconds=int(settings["CHANNEL_SESSION_TTL_SECONDS"]),
                                 identification_ttl_seconds=int(settings["IDENTIFICATION_TTL_SECONDS"])),
        id_sessions=parts["sessions"], policies=parts["policies"], clock=parts["clock"])
    certificates = CertificateSettings(
        treasury_delay_working_days=int(settings["TREASURY_DELAY_WORKING_DAYS"]),
        verify_url=public + "/verify")  # the public verification page (app/web/verify.py)
    password_rules = PasswordRules(max_wrong=int(settings["PAYMENT_PASSWORD_MAX_WRONG"]),
                                   lock_minutes=int(settings["PAYMENT_PASSWORD_LOCK_MINUTES"]),
                                   code_minutes=int(settings["SMS_CODE_MINUTES"]))
    engine = parts["engine"]
    if "bank" in parts:
        bank = parts.pop("bank")
        find_bank = lambda: bank  # noqa: E731
    else:  # the agreement provider is also the bank port, built when a debit first needs it
        providers = parts["providers"]
        find_bank = lambda: providers.get("agreement")  # noqa: E731
    container = Container(payments=payments, channels=channels, certificates=certificates, settings=settings,
                          password_rules=password_rules, batch_store=lambda: SqlBatchDebits(engine),
                          find_bank=find_bank, **parts)
    from app.bootstrap_accounts import build_account_deps  # the accounts' part of the composition root

    container.accounts = build_account_deps(settings, container)
    from app.bootstrap_backoffice import build_backoffice_deps

    container.backoffice = build_backoffice_deps(settings, container)
    return container


def provider_settings(settings: Mapping[str, Any]) -> dict:
    """The configured providers, or the local sandbox gateways when none are configured."""
    if settings.get("PAYMENT_PROVIDERS"):
        return {code: (path, kwargs) for code, (path, kwargs) in settings["PAYMENT_PROVIDERS"].items()}
    from payments.sandbox.wiring import sandbox_provider_settings  # the one place the core meets the sandboxes

    return sandbox_provider_settings(settings["SANDBOX_KEY_DIR"], settings["SANDBOX_URLS"],
                                     settings["PUBLIC_BASE_URL"], settings["COUNTER_BANK_KEYS"])


def channel_settings(settings: Mapping[str, Any]) -> dict:
    """The configured channels, or the channels in SANDBOX_CHANNELS against the local sandboxes."""
    if settings.get("CHANNELS"):
        return {code: (path, kwargs) for code, (path, kwargs) in settings["CHANNELS"].items()}
    from channels.sandbox.wiring import sandbox_channel_settings  # the one place channels meet the sandboxes

    urls = {**settings["SANDBOX_URLS"], **settings["CHANNEL_SANDBOX_URLS"]}
    return sandbox_channel_settings(settings["SANDBOX_CHANNELS"], settings["SANDBOX_KEY_DIR"], urls,
                                    settings["PUBLIC_BASE_URL"], token_store_url=settings.get("REDIS_URL") or None)


class LazyProviders(Mapping[str, PaymentProvider]):
    """The payment providers by code, each built when first asked for.

    The settings (``{code: (factory, kwargs)}``) are read when a code is first needed: for the
    sandboxes that reads or makes their keys. Iterating gives the codes without building anything.
    """

    def __init__(self, read_settings: Callable[[], Mapping[str, tuple[str, Mapping[str, Any]]]],
                 wrap: Callable[[PaymentProvider], PaymentProvider] = lambda provider: provider):
        self._read_settings = read_settings
        self._wrap = wrap
        self._settings: dict[str, tuple[str, Mapping[str, Any]]] | None = None
        self._built: dict[str, PaymentProvider] = {}
        self._lock = threading.Lock()

    def _codes(self) -> dict[str, tuple[str, Mapping[str, Any]]]:
        if self._settings is None:
            with self._lock:
                if self._settings is None:
                    self._settings = dict(self._read_settings())
        return self._settings

    def __getitem__(self, code: str) -> PaymentProvider:
        provider = self._built.get(code)
        if provider is None:
            factory_path, kwargs = self._codes()[code]  # KeyError: no such provider
            with self._lock:
                provider = self._built.get(code)
                if provider is None:
                    provider = self._built[code] = self._wrap(build_provider(code, factory_path, kwargs))
        return provider

    def __contains__(self, code: object) -> bool:  # a question about the settings: builds nothing
        return code in self._codes()

    def __iter__(self) -> Iterator[str]:
        return iter(self._codes())

    def __len__(self) -> int:
        return len(self._codes())


class LazyChannels(Mapping[str, ChannelAdapter]):
    """The channels by code, built once, when first asked for."""

    def __init__(self, build: Callable[[], dict[str, ChannelAdapter]]):
        self._build = build
        self._channels: dict[str, ChannelAdapter] | None = None
        self._lock = threading.Lock()

    def _all(self) -> dict[str, ChannelAdapter]:
        if self._channels is None:
            with self._lock:
                if self._channels is None:
                    self._channels = self._build()
        return self._channels

    def __getitem__(self, code: str) -> ChannelAdapter:
        return self._all()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())
