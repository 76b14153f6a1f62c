"""The tax bureau's staff in the back office: roles that separate duties, and the rules of signing in.

Roles (受理 / 审核 / 财务 / 稽核) are data: a view names the roles it admits, and a staff member
holds any set of them. 稽核 (audit) sees everything and changes nothing: it is never among
the roles an action admits. Who accepted a refund cannot approve it (four-eyes) is a rule of
the refund review, not of the roles: one person may hold both roles and still be refused.

A session is valid only while the account is active, its ``session_epoch`` is the one the
session was opened with (disabling, a password or second-factor reset, a role taken away all
move it on), and neither the idle nor the absolute timeout has passed; the views check this
on every request, and the roles too, from the database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.domain.errors import Forbidden, InvalidInput, TooManyAttempts, Unauthenticated

ACCEPT, APPROVE, FINANCE, AUDIT = "accept", "approve", "finance", "audit"
ROLES = (ACCEPT, APPROVE, FINANCE, AUDIT)
ROLE_LABELS = {ACCEPT: "受理", APPROVE: "审核", FINANCE: "财务", AUDIT: "稽核（只读）"}
ANY_ROLE = ROLES  # reading pages: every role, the auditor included
ACTING_ROLES = (ACCEPT, APPROVE, FINANCE)  # 稽核 never acts

ACTIVE, DISABLED = "active", "disabled"
MAX_WRONG = 5  # wrong passwords or codes in a row before the account is locked for a while
LOCK_MINUTES = 15

USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


@dataclass(frozen=True)
class SessionRules:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=10)  # one working day
    pending: timedelta = timedelta(minutes=5)  # between the password and the second factor


@dataclass
class StaffMember:
    """A staff account as read (the second factor's secret stays in the store)."""

    username: str
    display_name: str
    roles: frozenset[str] = frozenset()
    status: str = ACTIVE
    session_epoch: int = 0
    failed_attempts: int = 0
    locked_until: datetime | None = None
    password_hash: str = field(default="", repr=False)
    last_totp_step: int = 0
    id: int | None = None

    @property
    def role_labels(self) -> list[str]:
        return [ROLE_LABELS[r] for r in ROLES if r in self.roles]

    def check_can_sign_in(self, now: datetime) -> None:
        if self.status != ACTIVE:
            raise Unauthenticated("staff_disabled", "该账号已停用，请联系系统管理员")
        if self.locked_until is not None and now < self.locked_until:
            raise TooManyAttempts("staff_locked", f"错误次数过多，账号已锁定{LOCK_MINUTES}分钟，请稍后再试")

    def may(self, allowed: tuple[str, ...] | frozenset[str]) -> bool:
        return bool(self.roles & set(allowed))

    def require(self, allowed: tuple[str, ...] | frozenset[str]) -> None:
        if not self.may(allowed):
            needed = "、".join(ROLE_LABELS[r] for r in ROLES if r in allowed)
            raise Forbidden("staff_role_required", f"当前账号无权进行此操作（需要{needed}岗位）")


def check_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not 3 <= len(name) <= 32 or not set(name) <= USERNAME_CHARS:
        raise InvalidInput("staff_username_invalid", "用户名须为3至32位小写字母、数字或 . _ -", field="username")
    return name


def check_roles(roles: list[str] | tuple[str, ...]) -> frozenset[str]:
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise InvalidInput("staff_role_invalid", "岗位须为受理、审核、财务、稽核之一", field="roles")
    return frozenset(roles)


def check_reason(reason: str, field_name: str = "reason") -> str:
    text = (reason or "").strip()
    if not 2 <= len(text) <= 500:
        raise InvalidInput("reason_required", "请填写理由（2至500个字）", field=field_name)
    return text
