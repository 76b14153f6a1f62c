"""The back office's ports: the staff store (accounts, roles, the staff action log) and the second factor.

``BackofficeDeps`` is bound once in the composition root (``app/bootstrap_backoffice.py``);
the back-office views and the ``flask staff`` commands pass it to the services.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, ContextManager, Protocol

from app.domain.staff import SessionRules, StaffMember
from app.services.ports import Clock, PasswordHasher


@dataclass(frozen=True)
class StaffAction:
    """One line of the staff action log: who did what to which target, when, why, and how it ended."""

    actor: str  # the staff username, or "cli:<operator>" for a command
    action: str  # e.g. staff.sign_in, exception.resolve, person.unmask
    target: str  # e.g. order:Q2026..., call:12, staff:li.si
    at: datetime
    outcome: str = "done"  # done / denied / failed
    reason: str | None = None
    detail: dict = field(default_factory=dict)
    staff_id: int | None = None
    request_id: str | None = None
    client_ip: str | None = None
    id: int | None = None


class StaffStore(Protocol):
    """Staff accounts and the action log; ``with store:`` is one transaction, ``commit()`` keeps it."""

    def __enter__(self) -> "StaffStore": ...
    def __exit__(self, *exc) -> None: ...
    def commit(self) -> None: ...
    def add(self, member: StaffMember, totp_secret: str, at: datetime) -> int: ...
    def get(self, staff_id: int) -> StaffMember | None: ...
    def get_by_username(self, username: str) -> StaffMember | None: ...
    def list_all(self) -> list[StaffMember]: ...
    def totp_secret(self, staff_id: int) -> str:
        """The decrypted second-factor secret."""
    def save_sign_in_state(self, staff_id: int, failed_attempts: int, locked_until: datetime | None) -> None: ...
    def use_totp_step(self, staff_id: int, step: int) -> bool:
        """Compare-and-set: keep ``step`` as the last code used when it is newer; False on a replayed code."""
    def update(self, staff_id: int, *, roles: frozenset[str] | None = None, status: str | None = None,
               password_hash: str | None = None, totp_secret: str | None = None, end_sessions: bool = False,
               at: datetime) -> None:
        """Change the account; ``end_sessions`` moves its session epoch on (every open session ends)."""
    def record_action(self, action: StaffAction) -> None: ...
    def actions(self, actor: str | None, action: str | None, target: str | None, before_id: int | None,
                limit: int) -> list[StaffAction]:
        """The log, newest first."""


class BackofficeReads(Protocol):
    """What the back office reads: exceptions with their evidence, resolved cases, report sums."""

    def debited_unposted(self, limit: int = 200) -> list[dict]: ...
    def failed_refunds(self, limit: int = 200) -> list[dict]: ...
    def rejected_notifications(self, limit: int = 200) -> list[dict]: ...
    def notification(self, notification_id: int) -> dict | None: ...
    def resolved_keys(self, kind: str) -> set[str]: ...
    def resolve_case(self, kind: str, key: str, by: str, note: str, at: datetime) -> bool:
        """Insert-if-absent: False when the case was resolved already."""
    def case(self, kind: str, key: str) -> dict | None: ...
    def order_evidence(self, order_no: str) -> dict | None: ...
    def collections(self, start, end, dimension: str) -> list[dict]:
        """[{key, count, amount_fen}] of posted payments per dimension value."""


class ReportRenderer(Protocol):
    """Server-side chart (SVG) and spreadsheet (xlsx) of a report's rows."""

    def bar_chart_svg(self, title: str, labels: list[str], values: list[float], unit: str) -> str: ...
    def xlsx(self, title: str, header: list[str], rows: list[list]) -> bytes: ...


class SecondFactor(Protocol):
    """Time-based one-time codes (RFC 6238) from an authenticator the staff member holds."""

    def new_secret(self) -> str: ...
    def provisioning_uri(self, secret: str, username: str) -> str:
        """The otpauth:// URI an authenticator app or a token programmer reads."""
    def matching_step(self, secret: str, code: str, now: datetime) -> int | None:
        """The time step whose code ``code`` is (now, or one step either side), or None."""


@dataclass
class BackofficeDeps:
    store: Callable[[], StaffStore]
    hasher: PasswordHasher
    second_factor: SecondFactor
    clock: Clock
    rules: SessionRules = field(default_factory=SessionRules)
    reads: Callable[[], BackofficeReads] | None = None
    # (accessor, purpose, where) → a context in which reads of personal data are logged as made by the staff member
    reading_as: Callable[..., ContextManager] | None = None
    reminders: Any = None  # ReminderPorts (app/services/reminders.py)
    reports: ReportRenderer | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # other back-office parts (notifier, ...), by name
