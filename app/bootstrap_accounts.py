"""The composition root's account part: the account services' dependencies, bound once per app.

Called by ``app/api/accounts.init_app``. Secrets for SMS-code digests, the ALTCHA key and
channel login tickets are derived from ``SECRET_KEY`` (one secret to manage), except the
ticket secret, which the tax app channel must share: ``ACCOUNT_TICKET_SECRET``, or without it
a file in the sandbox key folder that the sandbox wiring of the channel reads too.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping

from app.adapters.account_repository import SqlAccountsUnitOfWork
from app.adapters.account_sandboxes import SandboxIdentity, SandboxSms
from app.adapters.account_security import Argon2Hasher, AltchaHumanCheck, LimitsRateLimiter, ZxcvbnStrength
from app.adapters.ephemeral import CipherSealer, MemoryStore, RedisStore
from app.domain.accounts import SessionPolicy
from app.services.account_ports import AccountDeps, AccountSettings
from payments.registry import load_object

log = logging.getLogger(__name__)


def derived_secret(secret_key: str, label: str) -> bytes:
    return hmac.new((secret_key or "dev").encode(), label.encode(), hashlib.sha256).digest()


def ticket_secret(settings: Mapping[str, Any]) -> bytes:
    """The secret shared with the account-login channels (the tax app) to sign login tickets."""
    if settings.get("ACCOUNT_TICKET_SECRET"):
        return settings["ACCOUNT_TICKET_SECRET"].encode()
    return sandbox_ticket_secret(settings["SANDBOX_KEY_DIR"])


def sandbox_ticket_secret(key_dir: str | Path) -> bytes:
    from channels.tax_app.sandboxed import sandbox_settings  # the file the channel's sandbox wiring reads

    return sandbox_settings(key_dir, {}, "http://unused")[1]["ticket_secret"].encode()


def build_account_deps(settings: Mapping[str, Any], container) -> AccountDeps:
    store = RedisStore(container.redis) if container.redis is not None else MemoryStore()
    secret = settings.get("SECRET_KEY") or ""
    limits = settings.get("ACCOUNT_LIMITS") or {}
    account_settings = AccountSettings(
        session_policy=SessionPolicy(idle=timedelta(minutes=int(settings["ACCOUNT_SESSION_IDLE_MINUTES"])),
                                     absolute=timedelta(hours=int(settings["ACCOUNT_SESSION_ABSOLUTE_HOURS"]))),
        code_secret=derived_secret(secret, "account-sms-codes"), ticket_secret=ticket_secret(settings),
        public_base_url=settings["PUBLIC_BASE_URL"].rstrip("/"), **limits)
    gateways = settings.get("ACCOUNT_GATEWAYS") or {}
    if settings.get("ACCOUNT_SANDBOXES") or not gateways:
        # like the payment providers: without a configured gateway the sandboxes answer (their pages are
        # served only with ACCOUNT_SANDBOXES), so a production run without one sends no real SMS
        if not settings.get("ACCOUNT_SANDBOXES"):
            log.warning("no SMS or identity-verification gateway configured (ACCOUNT_GATEWAYS): using the sandboxes")
        sms, verifier = SandboxSms(store), SandboxIdentity(store, settings["PUBLIC_BASE_URL"])
    else:  # a real gateway: {"sms": [factory, kwargs], "identity": [factory, kwargs]}
        sms = load_object(gateways["sms"][0])(**gateways["sms"][1])
        verifier = load_object(gateways["identity"][0])(**gateways["identity"][1])
    storage_uri = settings.get("RATELIMIT_STORAGE_URI") or settings.get("REDIS_URL") or "memory://"
    return AccountDeps(
        uow=lambda: SqlAccountsUnitOfWork(container.engine, container.cipher), clock=container.clock,
        hasher=Argon2Hasher(**settings["ACCOUNT_ARGON2"]), strength=ZxcvbnStrength(), sms=sms, verifier=verifier,
        human=AltchaHumanCheck(derived_secret(secret, "account-altcha").hex(), store,
                               max_number=int(settings["ACCOUNT_HUMAN_CHECK_MAX_NUMBER"])),
        limiter=LimitsRateLimiter(storage_uri), store=store, settings=account_settings,
        sealer=CipherSealer(container.cipher))
