"""The payment password (支付密码, seed 001): SMS code, set twice, enable/disable, check with a lock.

Setting: ``send_password_code`` texts a 6-digit code to the person's phone (it lasts
``rules.code_minutes``; at most one a minute); ``set_payment_password`` takes the code and the
password entered twice. Checking (an agreement payment): three wrong entries lock the person
for three minutes (``PasswordRules``, from settings) and the caller ends their session
("强制退出登录"). The clock decides when a lock ends; the hash never leaves the adapter.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from app.domain.errors import Conflict, InvalidInput, TooManyAttempts
from app.domain.payment_password import (LOCKED, OK, PasswordRules, PaymentPassword, check_new_password,
                                         locked_error)
from app.domain.periods import local_iso
from app.services.ports import Clock, PasswordHasher, Sms, UnitOfWork

RESEND_SECONDS = 60


def _code_hash(person_id: int, code: str) -> str:
    return hashlib.sha256(f"{person_id}:{code}".encode()).hexdigest()


def _load(uow: UnitOfWork, person_id: int) -> PaymentPassword:
    return uow.payment_passwords.get(person_id) or PaymentPassword(person_id=person_id)


def _save(uow: UnitOfWork, record: PaymentPassword, clock: Clock) -> None:
    if not uow.payment_passwords.save(record, clock.now()):
        raise Conflict("payment_password_busy", "操作过于频繁，请稍后重试")


def send_password_code(person_id: int, uow: UnitOfWork, sms: Sms, clock: Clock, rules: PasswordRules) -> dict:
    """发送验证码 to the person's registered phone."""
    now = clock.now()
    with uow:
        person = uow.persons.get(person_id)
        if not person.phone:
            raise InvalidInput("phone_missing", "未登记手机号码，无法发送验证码，请先到税务机关登记")
        record = _load(uow, person_id)
        sent_at = record.code_expires_at - timedelta(minutes=rules.code_minutes) if record.code_expires_at else None
        if sent_at and now < sent_at + timedelta(seconds=RESEND_SECONDS):
            raise TooManyAttempts("sms_too_frequent", "验证码已发送，请1分钟后再试")
        code = f"{secrets.randbelow(10 ** 6):06d}"
        record.code_hash, record.code_attempts = _code_hash(person_id, code), 0
        record.code_expires_at = now + timedelta(minutes=rules.code_minutes)
        _save(uow, record, clock)
        uow.commit()
    sms.send(person.phone, f"【社保费缴费】您正在设置支付密码，验证码{code}，{rules.code_minutes}分钟内有效，请勿告诉他人。")
    return {"sent_to": f"{person.phone[:3]}****{person.phone[-4:]}", "expires_at": local_iso(record.code_expires_at)}


def set_payment_password(person_id: int, sms_code: str, password: str, password_again: str, uow: UnitOfWork,
                         hasher: PasswordHasher, clock: Clock, rules: PasswordRules) -> dict:
    """设置支付密码: the SMS code, then the same 6 digits twice; the password is enabled."""
    check_new_password(password, password_again)
    now = clock.now()
    with uow:
        record = _load(uow, person_id)
        if not record.code_hash or now >= record.code_expires_at or record.code_attempts >= rules.code_attempts:
            raise InvalidInput("sms_code_expired", "验证码已失效，请重新获取", field="sms_code")
        if not hmac.compare_digest(record.code_hash, _code_hash(person_id, (sms_code or "").strip())):
            record.code_attempts += 1
            _save(uow, record, clock)
            uow.commit()
            raise InvalidInput("sms_code_wrong", "验证码错误，请重新输入", field="sms_code")
        record.password_hash = hasher.hash(password)
        record.enabled, record.failed_attempts, record.locked_until = True, 0, None
        record.code_hash = record.code_expires_at = None
        _save(uow, record, clock)
        uow.audit.record("payment_password.set", f"person:{person_id}", {}, now)
        uow.commit()
    return password_status(person_id, uow, clock)


def set_password_enabled(person_id: int, enabled: bool, password: str, uow: UnitOfWork, hasher: PasswordHasher,
                         clock: Clock, rules: PasswordRules) -> dict:
    """设置支付密码是否启用: either way the current password is asked for (and counts towards the lock)."""
    check_payment_password(person_id, password, uow, hasher, clock, rules, required=True)
    with uow:
        record = _load(uow, person_id)
        record.enabled = enabled
        _save(uow, record, clock)
        uow.audit.record("payment_password.enabled" if enabled else "payment_password.disabled",
                         f"person:{person_id}", {}, clock.now())
        uow.commit()
    return password_status(person_id, uow, clock)


def check_payment_password(person_id: int, password: str | None, uow: UnitOfWork, hasher: PasswordHasher,
                           clock: Clock, rules: PasswordRules, required: bool = False) -> None:
    """Pass, or raise: not set, locked, wrong (with the tries left), or locked by this very entry.

    A disabled password is not asked for (the payer switched it off) unless ``required``.
    An error with ``logout`` in its details means: end the person's session now.
    """
    now = clock.now()
    with uow:
        record = _load(uow, person_id)
        if not record.is_set:
            raise Conflict("payment_password_not_set", "尚未设置支付密码，请先在委托扣款协议页面设置支付密码")
        if not record.enabled and not required:
            return
        if record.is_locked(now):
            raise locked_error(record.locked_until, now)
    correct = bool(password) and hasher.verify(record.password_hash, password)
    with uow:
        record = _load(uow, person_id)
        if record.is_locked(now):
            raise locked_error(record.locked_until, now)
        outcome = record.record_attempt(correct, now, rules)
        _save(uow, record, clock)
        if outcome != OK:
            uow.audit.record("payment_password.wrong", f"person:{person_id}", {"locked": outcome == LOCKED}, now)
        uow.commit()
    if outcome == LOCKED:
        raise TooManyAttempts("payment_password_locked",
                              f"支付密码输入错误{rules.max_wrong}次，已强制退出登录并锁定{rules.lock_minutes}分钟",
                              field="password", logout=True, locked_until=local_iso(record.locked_until))
    if outcome != OK:
        raise InvalidInput("payment_password_wrong", f"支付密码错误，还可尝试{record.remaining_tries(rules)}次",
                           field="password")


def password_status(person_id: int, uow: UnitOfWork, clock: Clock) -> dict:
    with uow:
        record = _load(uow, person_id)
    return {"is_set": record.is_set, "enabled": record.enabled, "locked": record.is_locked(clock.now()),
            "locked_until": local_iso(record.locked_until) if record.is_locked(clock.now()) else None}
