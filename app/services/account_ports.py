"""The ports the account services talk through, and the one object that binds them.

Adapters: ``app/adapters/account_repository.py`` (SQL), ``account_security.py`` (argon2id,
zxcvbn, ALTCHA proof-of-work, rate limits over the ``limits`` library flask-limiter uses),
``ephemeral.py`` (Redis, or memory for the zero-setup run) and ``account_sandboxes.py`` (the
SMS and identity-verification sandboxes). ``tests/account_fakes.py`` has in-memory fakes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Protocol

from app.domain.accounts import Account, SessionPolicy
from app.services.ports import AuditLog, Clock, EnrollmentRepository, PersonRepository


class AccountRepository(Protocol):
    def get(self, account_id: int) -> Account | None: ...
    def find_by_username(self, username: str) -> Account | None: ...
    def find_by_phone(self, phone: str) -> Account | None: ...
    def find_by_document(self, id_type: str, id_number: str) -> Account | None: ...
    def add(self, account: Account) -> Account | None:
        """Insert; None when the username, document or phone is taken (the database decides)."""
    def clear_phone(self, account_id: int) -> None: ...
    def set_phone(self, account_id: int, phone: str | None) -> bool:
        """False when another account holds the phone."""
    def set_password(self, account_id: int, password_hash: str, at: datetime) -> None: ...
    def record_consent(self, account_id: int, document: str, version: str, at: datetime) -> None: ...
    def link_person(self, account_id: int, person_id: int) -> None: ...


class AccountsUnitOfWork(Protocol):
    """One transaction over accounts, the persons the bureaus pushed, their enrollments, and the audit log."""

    accounts: AccountRepository
    persons: PersonRepository
    enrollments: EnrollmentRepository
    audit: AuditLog

    def __enter__(self) -> "AccountsUnitOfWork": ...
    def __exit__(self, *exc) -> None: ...
    def commit(self) -> None: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...
    def verify_dummy(self, password: str) -> None:
        """Do the work of a verification against no account, so unknown users take as long."""


class PasswordStrength(Protocol):
    def score(self, password: str, user_inputs: list[str]) -> int:
        """0 (guessable) .. 4 (very unguessable)."""


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> str:
        """Send a text; returns the gateway's message id. Raises on trouble."""


class IdentityVerifier(Protocol):
    """实人认证: a liveness check of the person holding the document, by a verification provider."""

    def start(self, name: str, id_type: str, id_number: str, return_url: str) -> tuple[str, str]:
        """A new check: its id, and the URL the person opens (in the tax app) to take it."""
    def result(self, check_id: str) -> str:
        """``passed``, ``failed`` or ``pending``."""


class HumanCheck(Protocol):
    """A proof-of-work challenge a browser solves before sign-in or an SMS send (instead of a slider)."""

    def challenge(self) -> dict: ...
    def verify(self, payload: str) -> bool:
        """True once per solved challenge; a replayed solution is False."""


class RateLimiter(Protocol):
    def exceeded(self, limit: str, key: str) -> bool:
        """True when ``key`` has used up ``limit`` (e.g. "5 per 10 minutes;20 per day")."""
    def hit(self, limit: str, key: str) -> None: ...


class Sealer(Protocol):
    """Encrypts what a short-lived record holds of a person (a pending registration) before it is stored."""

    def seal(self, data: dict) -> str: ...
    def unseal(self, sealed: str) -> dict: ...


class EphemeralStore(Protocol):
    """Short-lived records (codes, sessions, challenges) that expire by themselves."""

    def put(self, key: str, value: dict, ttl_seconds: int) -> None: ...
    def get(self, key: str) -> dict | None: ...
    def take(self, key: str) -> dict | None:
        """Get and delete at once: of two callers, only one gets the value."""
    def delete(self, key: str) -> None: ...
    def incr(self, key: str, ttl_seconds: int) -> int: ...
    def add_member(self, key: str, member: str, ttl_seconds: int) -> None: ...
    def members(self, key: str) -> set[str]: ...


@dataclass(frozen=True)
class AccountSettings:
    code_ttl: timedelta = timedelta(minutes=5)
    code_max_attempts: int = 5
    codes_per_phone_per_day: int = 10
    challenge_ttl: timedelta = timedelta(minutes=5)
    registration_ttl: timedelta = timedelta(minutes=30)
    session_policy: SessionPolicy = SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=8))
    login_limit_per_account: str = "5 per 10 minutes;20 per day"
    login_limit_per_address: str = "30 per 10 minutes;300 per day"
    sms_limit_per_phone: str = "1 per minute;10 per day"
    sms_limit_per_address: str = "10 per 10 minutes;50 per day"
    recovery_limit_per_account: str = "5 per hour;10 per day"
    recovery_limit_per_address: str = "20 per hour;100 per day"
    code_secret: bytes = b""
    ticket_secret: bytes = b""
    public_base_url: str = "http://127.0.0.1:5000"


@dataclass
class AccountDeps:
    """Everything the account services need, bound once in the composition root."""

    uow: Callable[[], AccountsUnitOfWork]
    clock: Clock
    hasher: PasswordHasher
    strength: PasswordStrength
    sms: SmsGateway
    verifier: IdentityVerifier
    human: HumanCheck
    limiter: RateLimiter
    store: EphemeralStore
    settings: AccountSettings
    sealer: Sealer
