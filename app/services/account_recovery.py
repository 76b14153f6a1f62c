"""Forgot password, change password, change phone, recover phone (seeds 000, 001, 004), and consent.

Forgot password answers alike whether the account exists (a code goes out only when it does),
and the reset step refuses an unknown account with the same "wrong code" answer. Recovering
the phone proves the person by document + name + password (limited like sign-in) and the new
phone by its code. A new password ends every other session. Every step is in the audit log.
"""
from __future__ import annotations

from app.domain.accounts import (CONSENT_TITLES, PRIVACY_CONSENT, PRIVACY_CONSENT_VERSION, SMS_CHANGE_PASSWORD,
                                 SMS_CHANGE_PHONE, SMS_RECOVER_PHONE, SMS_RESET_PASSWORD, mask_phone,
                                 normalize_phone)
from app.domain.errors import InvalidInput, TooManyAttempts, Unauthenticated
from app.services.account_codes import CODE_INVALID, check_code, send_code
from app.services.account_login import (LOGIN_FAILED, LOGIN_LIMITED, check_password, find_account, identifier_key,
                                        require_human, revoke_sessions, session_account)
from app.services.account_ports import AccountDeps
from app.services.accounts import check_password_strength

RESET_SENT = "如账户存在且已绑定手机号码，验证码已发送至该手机"


def _audit(deps: AccountDeps, kind: str, account_id: int, data: dict | None = None) -> None:
    with deps.uow() as uow:
        uow.audit.record(kind, f"account:{account_id}", data or {}, deps.clock.now())
        uow.commit()


def _recovery_limited(kind: str, ident: str, deps: AccountDeps, client_ip: str | None) -> list[tuple[str, str]]:
    s = deps.settings
    keys = [(s.recovery_limit_per_account, f"recovery-acct:{identifier_key(kind, ident, deps)}")]
    if client_ip:
        keys.append((s.recovery_limit_per_address, f"recovery-ip:{client_ip}"))
    if any(deps.limiter.exceeded(limit, key) for limit, key in keys):
        raise TooManyAttempts(*LOGIN_LIMITED)
    return keys


def start_password_reset(kind: str, data: dict, deps: AccountDeps, client_ip: str | None = None) -> dict:
    """忘记密码, step one: a code to the account's phone; the same answer whether or not it exists."""
    require_human(data.get("human_check"), deps)
    with deps.uow() as uow:
        ident, account = find_account(kind, data, uow, deps)
    for limit, key in _recovery_limited(kind, ident, deps, client_ip):
        deps.limiter.hit(limit, key)
    if account is not None and account.phone:
        try:
            send_code(SMS_RESET_PASSWORD, account.phone, deps, client_ip)
        except TooManyAttempts:
            pass  # saying so would tell that the account exists
        _audit(deps, "account.password_reset_requested", account.id, {"ip": client_ip})
    return {"message": RESET_SENT}


def reset_password(kind: str, data: dict, deps: AccountDeps, client_ip: str | None = None) -> dict:
    """忘记密码, step two: the code and a new password; every session of the account ends."""
    with deps.uow() as uow:
        ident, account = find_account(kind, data, uow, deps)
    keys = _recovery_limited(kind, ident, deps, client_ip)
    if account is None or not account.phone:
        for limit, key in keys:
            deps.limiter.hit(limit, key)
        raise InvalidInput(*CODE_INVALID, field="sms_code")
    password = data.get("new_password") or ""
    check_password_strength(password, [account.username, account.name, account.phone or "", account.id_number], deps)
    check_code(SMS_RESET_PASSWORD, account.phone, data.get("sms_code") or "", deps)
    _set_password(account.id, password, deps)
    revoke_sessions(account.id, deps)
    _audit(deps, "account.password_reset", account.id, {"ip": client_ip})
    return {"message": "密码已重置，请使用新密码登录"}


def _set_password(account_id: int, password: str, deps: AccountDeps) -> None:
    with deps.uow() as uow:
        uow.accounts.set_password(account_id, deps.hasher.hash(password), deps.clock.now())
        uow.commit()


def send_account_code(token: str | None, purpose: str, deps: AccountDeps, new_phone: str | None = None,
                      client_ip: str | None = None) -> dict:
    """A code for a signed-in account: to its phone (change password) or to the new phone (change phone)."""
    account = session_account(token, deps)
    if purpose == SMS_CHANGE_PASSWORD and account.phone:
        return send_code(purpose, account.phone, deps, client_ip)
    if purpose == SMS_CHANGE_PHONE:
        return send_code(purpose, normalize_phone(new_phone or "", field="new_phone"), deps, client_ip)
    raise InvalidInput("sms_purpose_unknown", "验证码用途有误", field="purpose")


def change_password(token: str | None, data: dict, deps: AccountDeps, client_ip: str | None = None) -> dict:
    """密码修改: the current password, a code to the phone, a strong new password; other sessions end."""
    account = session_account(token, deps)
    keys = _recovery_limited("account", str(account.id), deps, client_ip)
    if not deps.hasher.verify(account.password_hash, data.get("old_password") or ""):
        for limit, key in keys:
            deps.limiter.hit(limit, key)
        _audit(deps, "account.password_change_failed", account.id, {"ip": client_ip})
        raise Unauthenticated("old_password_wrong", "原密码错误", field="old_password")
    password = data.get("new_password") or ""
    check_password_strength(password, [account.username, account.name, account.phone or "", account.id_number], deps)
    if account.phone:
        check_code(SMS_CHANGE_PASSWORD, account.phone, data.get("sms_code") or "", deps)
    _set_password(account.id, password, deps)
    ended = revoke_sessions(account.id, deps, keep=token)
    _audit(deps, "account.password_changed", account.id, {"sessions_ended": ended})
    return {"message": "密码修改成功", "sessions_ended": ended}


def _take_phone(account_id: int, phone: str, deps: AccountDeps, kind: str) -> None:
    with deps.uow() as uow:
        holder = uow.accounts.find_by_phone(phone)
        if holder is not None and holder.id != account_id:  # proven by its code: the phone moves
            uow.accounts.clear_phone(holder.id)
            uow.audit.record("account.phone_cleared", f"account:{holder.id}", {"reason": kind}, deps.clock.now())
        uow.accounts.set_phone(account_id, phone)
        uow.audit.record(f"account.{kind}", f"account:{account_id}", {"phone": mask_phone(phone)}, deps.clock.now())
        uow.commit()


def change_phone(token: str | None, data: dict, deps: AccountDeps) -> dict:
    """安全及通知手机号: the new phone, proven by its code."""
    account = session_account(token, deps)
    phone = normalize_phone(data.get("new_phone") or "", field="new_phone")
    check_code(SMS_CHANGE_PHONE, phone, data.get("sms_code") or "", deps)
    _take_phone(account.id, phone, deps, "phone_changed")
    return {"message": "手机号码修改成功", "phone": mask_phone(phone)}


def send_recovery_code(data: dict, deps: AccountDeps, client_ip: str | None = None) -> dict:
    """找回手机号码, step one: the human check, then a code to the new phone."""
    require_human(data.get("human_check"), deps)
    return send_code(SMS_RECOVER_PHONE, normalize_phone(data.get("new_phone") or "", field="new_phone"), deps,
                     client_ip)


def recover_phone(data: dict, deps: AccountDeps, client_ip: str | None = None) -> dict:
    """找回手机号码: document + name + password prove the person, the code proves the new phone."""
    phone = normalize_phone(data.get("new_phone") or "", field="new_phone")
    account = check_password("document", data, data.get("password") or "", deps, client_ip, limit_kind="recovery")
    if (data.get("name") or "").strip() != account.name:  # counted like a wrong password, answered alike
        for limit, key in _recovery_limited("document", f"{account.id_type}:{account.id_number}", deps, client_ip):
            deps.limiter.hit(limit, key)
        raise Unauthenticated(*LOGIN_FAILED, field="password")
    check_code(SMS_RECOVER_PHONE, phone, data.get("sms_code") or "", deps)
    _take_phone(account.id, phone, deps, "phone_recovered")
    return {"message": "手机号码已重新设置，请登录", "phone": mask_phone(phone)}


def record_consent(token: str | None, version: str, deps: AccountDeps) -> dict:
    """首次登录: agree to the 个人信息保护告知同意书 of the current version."""
    account = session_account(token, deps)
    if version != PRIVACY_CONSENT_VERSION:
        raise InvalidInput("consent_version_outdated", "同意书已更新，请阅读最新版本后再同意", field="version")
    with deps.uow() as uow:
        uow.accounts.record_consent(account.id, PRIVACY_CONSENT, version, deps.clock.now())
        uow.audit.record("account.consent", f"account:{account.id}", {"document": PRIVACY_CONSENT, "version": version},
                         deps.clock.now())
        uow.commit()
    return {"document": CONSENT_TITLES[PRIVACY_CONSENT], "version": version}
