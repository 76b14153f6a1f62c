"""SMS codes (短信验证码): six digits, for one purpose and one phone, single-use, short-lived.

A code is kept only as an HMAC (a leaked store shows no codes), with the time it was sent
(read from the Clock, so expiry is tested without waiting) and the wrong tries so far: the
fifth wrong try kills it. Sends are limited per phone (one a minute, ten a day) and per
client address; the daily count per phone also follows the Clock's day.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime

from app.domain.accounts import SMS_PURPOSES, mask_phone
from app.domain.errors import InvalidInput, TooManyAttempts
from app.domain.channels import ServiceUnavailable
from app.services.account_ports import AccountDeps

log = logging.getLogger(__name__)

CODE_INVALID = ("sms_code_invalid", "短信验证码错误或已失效，请重新输入")
CODE_EXPIRED = ("sms_code_expired", "短信验证码已过期，请重新获取")
CODE_EXHAUSTED = ("sms_code_attempts_exceeded", "短信验证码错误次数过多，请重新获取")
SEND_LIMITED = ("sms_rate_limited", "验证码发送过于频繁，请稍后再试")


def _key(purpose: str, phone: str) -> str:
    return f"acct:sms:{purpose}:{phone}"


def _digest(deps: AccountDeps, purpose: str, phone: str, code: str) -> str:
    return hmac.new(deps.settings.code_secret, f"{purpose}|{phone}|{code}".encode(), hashlib.sha256).hexdigest()


def send_code(purpose: str, phone: str, deps: AccountDeps, client_ip: str | None = None) -> dict:
    """Send a new code for ``purpose`` to ``phone`` (replacing any earlier one); limited per phone and address."""
    if purpose not in SMS_PURPOSES:
        raise InvalidInput("sms_purpose_unknown", "验证码用途有误", field="purpose")
    s, now = deps.settings, deps.clock.now()
    day_key = f"acct:sms-day:{phone}:{now:%Y%m%d}"
    current = deps.store.get(day_key) or {"n": 0}
    blocked = (deps.limiter.exceeded(s.sms_limit_per_phone, f"sms-phone:{purpose}:{phone}")
               or (client_ip and deps.limiter.exceeded(s.sms_limit_per_address, "sms-ip:" + client_ip))
               or current["n"] >= s.codes_per_phone_per_day)
    if blocked:
        raise TooManyAttempts(*SEND_LIMITED)
    deps.limiter.hit(s.sms_limit_per_phone, f"sms-phone:{purpose}:{phone}")
    if client_ip:
        deps.limiter.hit(s.sms_limit_per_address, "sms-ip:" + client_ip)
    deps.store.put(day_key, {"n": current["n"] + 1}, 2 * 86400)
    code = f"{secrets.randbelow(10 ** 6):06d}"
    deps.store.put(_key(purpose, phone), {"digest": _digest(deps, purpose, phone, code), "sent_at": now.isoformat(),
                                          "wrong": 0}, int(s.code_ttl.total_seconds()) * 2)
    text = f"【社保费缴费】您的{SMS_PURPOSES[purpose]}验证码为{code}，{int(s.code_ttl.total_seconds() // 60)}分钟内有效。" \
           "如非本人操作，请忽略本短信。"
    try:
        deps.sms.send(phone, text)
    except Exception as exc:  # the gateway's trouble: the code is useless unsent
        deps.store.delete(_key(purpose, phone))
        log.warning("sms gateway refused a %s code to %s: %s", purpose, mask_phone(phone), exc)
        raise ServiceUnavailable("sms_unavailable", "短信发送失败，请稍后再试") from exc
    return {"sent_to": mask_phone(phone), "expires_in": int(s.code_ttl.total_seconds())}


def check_code(purpose: str, phone: str, code: str, deps: AccountDeps, field: str = "sms_code") -> None:
    """Consume the code if it is right and fresh; otherwise raise and count the wrong try."""
    key = _key(purpose, phone)
    record = deps.store.get(key)
    if record is None or not code:
        raise InvalidInput(*CODE_INVALID, field=field)
    now = deps.clock.now()
    if now - datetime.fromisoformat(record["sent_at"]) >= deps.settings.code_ttl:
        deps.store.delete(key)
        raise InvalidInput(*CODE_EXPIRED, field=field)
    if not hmac.compare_digest(record["digest"], _digest(deps, purpose, phone, code.strip())):
        record["wrong"] += 1
        if record["wrong"] >= deps.settings.code_max_attempts:
            deps.store.delete(key)
            raise TooManyAttempts(*CODE_EXHAUSTED, field=field)
        deps.store.put(key, record, int(deps.settings.code_ttl.total_seconds()) * 2)
        raise InvalidInput(*CODE_INVALID, field=field)
    if deps.store.take(key) is None:  # someone used it a moment ago: single use
        raise InvalidInput(*CODE_INVALID, field=field)
