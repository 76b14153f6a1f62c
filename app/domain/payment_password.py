"""The payment password (支付密码 / 交易密码) an agreement payment asks for, and its lock.

Seed 001: set with an SMS code, entered twice; may be switched off ("设置支付密码是否启用");
"如果支付密码输入错误3次，将会被强制退出登录，并且该缴费人用户将会被系统锁定3分钟". The counts
are settings (``PasswordRules``). Six digits, as payment passwords are in China; the trivially
guessed ones (one digit repeated, a run up or down) are refused. The hash is made and checked
by a port (argon2id in the adapter); this module only keeps the rules and the counts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.errors import InvalidInput, TooManyAttempts

OK, WRONG, LOCKED, NOT_SET, DISABLED = "ok", "wrong", "locked", "not_set", "disabled"


@dataclass(frozen=True)
class PasswordRules:
    max_wrong: int = 3
    lock_minutes: int = 3
    code_minutes: int = 5  # an SMS code lasts this long
    code_attempts: int = 5  # wrong codes before a new one must be asked for


@dataclass
class PaymentPassword:
    person_id: int
    password_hash: str | None = None
    enabled: bool = False
    failed_attempts: int = 0
    locked_until: datetime | None = None
    code_hash: str | None = None
    code_expires_at: datetime | None = None
    code_attempts: int = 0
    version: int = 0
    id: int | None = None

    @property
    def is_set(self) -> bool:
        return self.password_hash is not None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def record_attempt(self, correct: bool, now: datetime, rules: PasswordRules) -> str:
        """Count one entry: OK (counter reset), WRONG, or LOCKED when this entry used the last try."""
        if correct:
            self.failed_attempts = 0
            self.locked_until = None
            return OK
        self.failed_attempts += 1
        if self.failed_attempts >= rules.max_wrong:
            self.failed_attempts = 0
            self.locked_until = now + timedelta(minutes=rules.lock_minutes)
            return LOCKED
        return WRONG

    def remaining_tries(self, rules: PasswordRules) -> int:
        return rules.max_wrong - self.failed_attempts


def locked_error(until: datetime, now: datetime) -> TooManyAttempts:
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))
    return TooManyAttempts("payment_password_locked", f"支付密码输入错误次数过多，请{minutes}分钟后再试",
                           field="password", locked_until=until.isoformat())


def check_new_password(password: str, again: str) -> str:
    if not re.fullmatch(r"\d{6}", password or ""):
        raise InvalidInput("payment_password_format", "支付密码应为6位数字", field="password")
    if password != again:
        raise InvalidInput("payment_password_mismatch", "两次输入的支付密码不一致", field="password_again")
    digits = [int(c) for c in password]
    steps = {b - a for a, b in zip(digits, digits[1:])}
    if len(set(digits)) == 1 or steps in ({1}, {-1}):
        raise InvalidInput("payment_password_weak", "支付密码过于简单，请勿使用重复或连续的数字", field="password")
    return password
