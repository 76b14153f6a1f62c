"""Sign-in (seed 000: by username, phone or document + password, then an SMS code) and sessions.

No account enumeration: an unknown identifier and a wrong password get the same answer after
the same work (the hasher verifies against a dummy hash), and count against the same limits.
Failures are limited per account identifier and per client address before any work is done.
A session is a random token with its start and last use (idle and absolute timeouts, read
from the Clock); signing in always makes a new token and ends the one presented (rotation),
and every session of an account can be revoked (on a password change, say).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from app.domain.accounts import (LOGIN_BY_DOCUMENT, LOGIN_BY_PHONE, LOGIN_BY_USERNAME, PRIVACY_CONSENT_VERSION,
                                 SMS_LOGIN, Account, mask_phone, normalize_phone, normalize_username)
from app.domain.documents import mask_id_number, mask_name, normalize_document
from app.domain.errors import DomainError, Forbidden, InvalidInput, TooManyAttempts, Unauthenticated
from app.services.account_codes import check_code, send_code
from app.services.account_ports import AccountDeps, AccountsUnitOfWork

LOGIN_FAILED = ("login_failed", "账号或密码错误")
LOGIN_LIMITED = ("login_rate_limited", "登录失败次数过多，请稍后再试")
HUMAN_CHECK = ("human_check_failed", "请先完成人机验证")
SESSION_REQUIRED = ("account_session_required", "请先登录")
CHALLENGE_EXPIRED = ("login_challenge_expired", "登录已超时，请重新输入账号和密码")
SESSION_KEY, ACCOUNT_SESSIONS_KEY, CHALLENGE_KEY = "acct:session:", "acct:sessions:", "acct:challenge:"


def require_human(payload: str | None, deps: AccountDeps) -> None:
    if not payload or not deps.human.verify(payload):
        raise InvalidInput(*HUMAN_CHECK, field="human_check")


def identifier_key(kind: str, identifier: str, deps: AccountDeps) -> str:
    """What failures are counted by: a keyed hash, so no phone or document number sits in Redis keys."""
    return hmac.new(deps.settings.code_secret, f"{kind}|{identifier}".encode(), hashlib.sha256).hexdigest()[:32]


def find_account(kind: str, data: dict, uow: AccountsUnitOfWork, deps: AccountDeps) -> tuple[str, Account | None]:
    """The account an identifier names, and the identifier normalised (unreadable input finds nobody)."""
    try:
        if kind == LOGIN_BY_USERNAME:
            ident = normalize_username(data.get("username") or "")
            return ident, uow.accounts.find_by_username(ident)
        if kind == LOGIN_BY_PHONE:
            ident = normalize_phone(data.get("phone") or "")
            return ident, uow.accounts.find_by_phone(ident)
        if kind == LOGIN_BY_DOCUMENT:
            number = normalize_document(data.get("id_type") or "", data.get("id_number") or "",
                                        today=deps.clock.today())
            return f"{data.get('id_type')}:{number}", uow.accounts.find_by_document(data["id_type"], number)
    except DomainError:
        return "invalid:" + str(data.get("username") or data.get("phone") or data.get("id_number") or ""), None
    raise InvalidInput("login_kind_unknown", "请选择登录方式", field="kind")


def check_password(kind: str, data: dict, password: str, deps: AccountDeps, client_ip: str | None,
                   limit_kind: str = "login") -> Account:
    """The account for an identifier and password, counted and limited; one answer for every failure."""
    s = deps.settings
    per_account = s.login_limit_per_account if limit_kind == "login" else s.recovery_limit_per_account
    per_address = s.login_limit_per_address if limit_kind == "login" else s.recovery_limit_per_address
    with deps.uow() as uow:
        ident, account = find_account(kind, data, uow, deps)
        keys = [(per_account, f"{limit_kind}-acct:{identifier_key(kind, ident, deps)}")]
        if client_ip:
            keys.append((per_address, f"{limit_kind}-ip:{client_ip}"))
        if any(deps.limiter.exceeded(limit, key) for limit, key in keys):
            raise TooManyAttempts(*LOGIN_LIMITED)
        if account is None:
            deps.hasher.verify_dummy(password or "")
            ok = False
        else:
            ok = deps.hasher.verify(account.password_hash, password or "") and account.status == "active"
        if not ok:
            for limit, key in keys:
                deps.limiter.hit(limit, key)
            uow.audit.record(f"account.{limit_kind}_failed", f"account:{account.id}" if account else "account:unknown",
                             {"kind": kind, "ip": client_ip}, deps.clock.now())
            uow.commit()
            raise Unauthenticated(*LOGIN_FAILED, field="password")
    return account


def start_login(kind: str, data: dict, deps: AccountDeps, client_ip: str | None = None) -> dict:
    """Step one: the human check and the password; then an SMS code goes to the account's phone."""
    require_human(data.get("human_check"), deps)
    account = check_password(kind, data, data.get("password") or "", deps, client_ip)
    if not account.phone:
        raise Forbidden("phone_missing", "该账户未设置手机号码，请使用“找回手机号码”重新设置后登录")
    challenge = secrets.token_urlsafe(32)
    deps.store.put(CHALLENGE_KEY + challenge, {"account_id": account.id, "created_at": deps.clock.now().isoformat()},
                   int(deps.settings.challenge_ttl.total_seconds()) * 2)
    sent = send_code(SMS_LOGIN, account.phone, deps, client_ip)
    return {"challenge": challenge, "sent_to": sent["sent_to"], "second_factors": ["sms"]}


def finish_login(challenge: str, sms_code: str, deps: AccountDeps, previous_token: str | None = None,
                 channel: str = "") -> dict:
    """Step two: the SMS code → a new session (the previous one, if any, ends: no fixation)."""
    record = deps.store.get(CHALLENGE_KEY + (challenge or "-"))
    now = deps.clock.now()
    if record is None or now - datetime.fromisoformat(record["created_at"]) >= deps.settings.challenge_ttl:
        raise Unauthenticated(*CHALLENGE_EXPIRED, field="challenge")
    with deps.uow() as uow:
        account = uow.accounts.get(record["account_id"])
    if account is None or not account.phone:
        raise Unauthenticated(*CHALLENGE_EXPIRED, field="challenge")
    try:
        check_code(SMS_LOGIN, account.phone, sms_code, deps)
    except TooManyAttempts:
        deps.store.delete(CHALLENGE_KEY + challenge)
        raise
    if deps.store.take(CHALLENGE_KEY + challenge) is None:
        raise Unauthenticated(*CHALLENGE_EXPIRED, field="challenge")
    return open_session(account, deps, previous_token, channel, how="sms")


def open_session(account: Account, deps: AccountDeps, previous_token: str | None, channel: str, how: str) -> dict:
    """A fresh session token for the account; the token the caller had before ends."""
    if previous_token:
        end_session(previous_token, deps)
    now = deps.clock.now()
    token = secrets.token_urlsafe(32)
    policy = deps.settings.session_policy
    deps.store.put(SESSION_KEY + token, {"account_id": account.id, "started_at": now.isoformat(),
                                         "last_seen_at": now.isoformat(), "channel": channel},
                   int(policy.absolute.total_seconds()))
    deps.store.add_member(ACCOUNT_SESSIONS_KEY + str(account.id), token, int(policy.absolute.total_seconds()))
    with deps.uow() as uow:
        uow.audit.record("account.login", f"account:{account.id}", {"second_factor": how, "channel": channel}, now)
        uow.commit()
    return {"session_token": token, "expires_in": int(policy.idle.total_seconds()),
            "consent_required": account.needs_consent, "consent_version": PRIVACY_CONSENT_VERSION}


def session_account(token: str | None, deps: AccountDeps, touch: bool = True) -> Account:
    """The account of a live session (it counts as used now); 401 when none, expired or revoked."""
    record = deps.store.get(SESSION_KEY + token) if token else None
    now = deps.clock.now()
    if record is None:
        raise Unauthenticated(*SESSION_REQUIRED)
    if not deps.settings.session_policy.alive(datetime.fromisoformat(record["started_at"]),
                                              datetime.fromisoformat(record["last_seen_at"]), now):
        deps.store.delete(SESSION_KEY + token)
        raise Unauthenticated("account_session_expired", "登录已超时，请重新登录")
    with deps.uow() as uow:
        account = uow.accounts.get(record["account_id"])
        if account is None or account.status != "active":
            raise Unauthenticated(*SESSION_REQUIRED)
        if account.person_id is None:  # the bureaus may have pushed the person since registration
            person = uow.persons.find_by_document(account.id_type, account.id_number)
            if person is not None and person.name == account.name:
                uow.accounts.link_person(account.id, person.id)
                uow.commit()
                account.person_id = person.id
    if touch:
        record["last_seen_at"] = now.isoformat()
        remaining = deps.settings.session_policy.absolute - (now - datetime.fromisoformat(record["started_at"]))
        deps.store.put(SESSION_KEY + token, record, max(1, int(remaining.total_seconds())))
    return account


def consented_account(token: str | None, deps: AccountDeps) -> Account:
    """As ``session_account``, and the privacy consent of the current version is given."""
    account = session_account(token, deps)
    if account.needs_consent:
        raise Forbidden("consent_required", "请先阅读并同意《个人信息保护告知同意书》")
    return account


def end_session(token: str, deps: AccountDeps) -> None:
    """Log out: the token is good for nothing from now on."""
    record = deps.store.take(SESSION_KEY + token)
    if record is not None:
        with deps.uow() as uow:
            uow.audit.record("account.logout", f"account:{record['account_id']}", {}, deps.clock.now())
            uow.commit()


def revoke_sessions(account_id: int, deps: AccountDeps, keep: str | None = None) -> int:
    """End every session of the account (but ``keep``); how many ended."""
    ended = 0
    for token in deps.store.members(ACCOUNT_SESSIONS_KEY + str(account_id)):
        if token != keep and deps.store.take(SESSION_KEY + token) is not None:
            ended += 1
    return ended


def account_view(account: Account) -> dict:
    """What the account's own pages show: masked, as everywhere a person is shown."""
    return {"username": account.username, "name": mask_name(account.name), "id_type": account.id_type,
            "id_number": mask_id_number(account.id_number), "phone": mask_phone(account.phone),
            "gender": account.gender, "nationality": account.nationality, "known_person": account.person_id is not None,
            "consent_version": account.consent_version}


def channel_ticket(token: str | None, state: str, deps: AccountDeps) -> str:
    """A login ticket for a channel entry (the tax app's "authorization code"), bound to its one-time state."""
    account = consented_account(token, deps)
    body = f"{account.id}.{state}"
    mac = hmac.new(deps.settings.ticket_secret, body.encode(), hashlib.sha256).hexdigest()
    return base64.urlsafe_b64encode(f"{body}.{mac}".encode()).decode().rstrip("=")
