"""Checks the settings at start, naming the setting in every complaint.

``check_settings(values)`` checks shapes for every way of running (a provider is
``[factory, {kwargs}]``, a key is base64 of 32 bytes, ...). ``check_production(values)`` adds
what production refuses: the local sandboxes or the fake provider, a loopback public URL,
missing keys, secrets that look typed by hand or copied from the test settings, the demo
people, and each configured provider's and channel's settings as far as its factory module's
``check_settings`` checks them (keys loaded, no SDK imported: the providers are built on first
use). Both raise ``SettingsError`` listing every problem at once, so an operator fixes the
file in one pass.
"""
from __future__ import annotations

import base64
import binascii
import importlib
import inspect
import ipaddress
import re
from typing import Any, Mapping
from urllib.parse import urlsplit

from config.sources import SettingsError

# the providers' own test environments: fine for a staging setup, refused in production
PROVIDER_TEST_HOSTS = ("alipaydev.com", "gateway.test.95516.com", "test.95516.com", "sandbox")
SANDBOX_MODULES = ("payments.sandbox", "payments.fake", "channels.sandbox")
_WEAK_WORD = re.compile(r"(?i)(^|[^a-z])(test|testing|dev|demo|changeme|change-me|example|sandbox|secret)([^a-z]|$)")
SECRET_SETTINGS = ("SECRET_KEY", "ENCRYPTION_KEY", "INDEX_KEY")
MIN_SECRET_CHARS = 32


def _key_bytes(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return None


def _factory_entries(name: str, value: Any, problems: list[str]) -> dict[str, tuple[str, dict]]:
    if not isinstance(value, Mapping):
        problems.append(f"{name}: expected a table {{code: [factory, {{settings}}]}}")
        return {}
    entries = {}
    for code, entry in value.items():
        if (not isinstance(entry, (list, tuple)) or len(entry) != 2 or not isinstance(entry[0], str)
                or not isinstance(entry[1], Mapping)):
            problems.append(f"{name}.{code}: expected [\"package.module:factory\", {{settings}}]")
            continue
        entries[code] = (entry[0], dict(entry[1]))
    return entries


def check_settings(values: Mapping[str, Any]) -> None:
    """Shapes every way of running needs; raises ``SettingsError``."""
    problems: list[str] = []
    if "://" not in str(values.get("DATABASE_URL") or ""):
        problems.append("DATABASE_URL: expected a database URL, e.g. postgresql+psycopg://user@host/db")
    key = _key_bytes(str(values.get("ENCRYPTION_KEY") or ""))
    if key is None or len(key) != 32:
        problems.append("ENCRYPTION_KEY: expected base64 of 32 random bytes "
                        "(python -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())')")
    index = _key_bytes(str(values.get("INDEX_KEY") or ""))
    if index is None or len(index) < 32:
        problems.append("INDEX_KEY: expected base64 of at least 32 random bytes")
    url = urlsplit(str(values.get("PUBLIC_BASE_URL") or ""))
    if url.scheme not in ("http", "https") or not url.hostname:
        problems.append("PUBLIC_BASE_URL: expected the service's public address, e.g. https://sbf.example.gov.cn")
    _factory_entries("PAYMENT_PROVIDERS", values.get("PAYMENT_PROVIDERS") or {}, problems)
    _factory_entries("CHANNELS", values.get("CHANNELS") or {}, problems)
    banks = values.get("COUNTER_BANK_KEYS") or {}
    if not isinstance(banks, Mapping) or not all(isinstance(v, str) and v for v in banks.values()):
        problems.append("COUNTER_BANK_KEYS: expected a table {bank code: shared secret}")
    methods = values.get("CHANNEL_PAYMENT_METHODS")
    if not isinstance(methods, Mapping) or not all(
            isinstance(v, (list, tuple)) and all(isinstance(m, str) and "." in m for m in v) for v in methods.values()):
        problems.append("CHANNEL_PAYMENT_METHODS: expected {channel: [\"provider.method\", ...]}")
    for name in ("ORDER_EXPIRY_MINUTES", "IDENTIFICATION_TTL_SECONDS", "CHANNEL_SESSION_TTL_SECONDS"):
        if not isinstance(values.get(name), int) or values[name] <= 0:
            problems.append(f"{name}: expected a positive whole number")
    proxies = values.get("TRUSTED_PROXY_COUNT", 0)
    if not isinstance(proxies, int) or proxies < 0:
        problems.append("TRUSTED_PROXY_COUNT: expected how many proxies stand in front (0, 1, 2, ...)")
    workers = values.get("RECONCILIATION_PARALLEL_WORKERS", 0)
    if not isinstance(workers, int) or isinstance(workers, bool) or not 0 <= workers <= 64:
        problems.append("RECONCILIATION_PARALLEL_WORKERS: expected a whole number of workers from 0 to 64")
    if problems:
        raise SettingsError(problems)


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _weak_secret(value: str, test_values: set[str]) -> str | None:
    if value in test_values:
        return "is a test setting's value"
    if len(value) < MIN_SECRET_CHARS:
        return f"is shorter than {MIN_SECRET_CHARS} characters"
    if _WEAK_WORD.search(value):
        return "looks typed by hand (contains test/dev/demo/example/secret)"
    decoded = _key_bytes(value)
    if decoded and all(32 <= b < 127 for b in decoded):
        return "decodes to readable text, not random bytes"
    return None


def _factory_problems(name: str, code: str, factory: str, kwargs: dict, key_dir: str) -> list[str]:
    where = f"{name}.{code}"
    if factory.startswith(SANDBOX_MODULES) or ".sandboxed" in factory:
        return [f"{where}: {factory} is a local sandbox or fake, refused in production"]
    problems = []
    for key, value in kwargs.items():
        text = str(value)
        if key_dir and text.startswith(key_dir):
            problems.append(f"{where}.{key}: points into SANDBOX_KEY_DIR (the sandbox's generated keys)")
        host = urlsplit(text).hostname if "://" in text else None
        if host and any(marker in host for marker in PROVIDER_TEST_HOSTS):
            problems.append(f"{where}.{key}: {host} is the provider's test environment")
    try:
        module_name, _, attr = factory.partition(":") if ":" in factory else factory.rpartition(".")
        module = importlib.import_module(module_name)
        signature = inspect.signature(getattr(module, attr))
    except (ImportError, AttributeError, ValueError) as error:
        return problems + [f"{where}: cannot load factory {factory!r} ({error})"]
    try:
        signature.bind(**kwargs)
    except TypeError as error:
        return problems + [f"{where}: {error}"]
    # The provider itself is built on first use (its SDK is imported then); the factory's module checks
    # its keys now, cheaply, so that production still refuses a bad key at start.
    check = getattr(module, "check_settings", None)
    if check is not None:
        try:
            check(**kwargs)
        except Exception as error:  # noqa: BLE001 - whatever the check raises is a complaint about this setting
            problems.append(f"{where}: {error}")
    return problems


def check_production(values: Mapping[str, Any], test_values: Mapping[str, Any]) -> None:
    """What production refuses on top of ``check_settings``; raises ``SettingsError``."""
    problems: list[str] = []
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        if not values.get(name):
            problems.append(f"{name}: required in production (SBF_{name} or the settings file)")
    if str(values.get("DATABASE_URL", "")).startswith("sqlite"):
        problems.append("DATABASE_URL: SQLite is for the zero-setup run only; production uses PostgreSQL")
    known = {str(v) for k, v in test_values.items() if k in SECRET_SETTINGS + ("BUREAU_API_KEYS",)
             and isinstance(v, str)} | set(test_values.get("BUREAU_API_KEYS", ())) | set(
        (test_values.get("COUNTER_BANK_KEYS") or {}).values())
    for name in SECRET_SETTINGS:
        why = _weak_secret(str(values.get(name) or ""), known) if values.get(name) else None
        if why:
            problems.append(f"{name}: refused in production: it {why}")
    for i, key in enumerate(values.get("BUREAU_API_KEYS") or ()):
        if why := _weak_secret(str(key), known):
            problems.append(f"BUREAU_API_KEYS[{i}]: refused in production: it {why}")
    for bank, key in (values.get("COUNTER_BANK_KEYS") or {}).items():
        if why := _weak_secret(str(key), known):
            problems.append(f"COUNTER_BANK_KEYS.{bank}: refused in production: it {why}")
    host = urlsplit(str(values.get("PUBLIC_BASE_URL") or "")).hostname or ""
    if _is_loopback(host):
        problems.append(f"PUBLIC_BASE_URL: {host} is this machine's loopback; providers could never reach it")
    providers = _factory_entries("PAYMENT_PROVIDERS", values.get("PAYMENT_PROVIDERS") or {}, problems)
    if not providers:
        problems.append("PAYMENT_PROVIDERS: required in production (without it the local sandboxes would be wired)")
    key_dir = str(values.get("SANDBOX_KEY_DIR") or "")
    for code, (factory, kwargs) in providers.items():
        problems += _factory_problems("PAYMENT_PROVIDERS", code, factory, kwargs, key_dir)
    for code, (factory, kwargs) in _factory_entries("CHANNELS", values.get("CHANNELS") or {}, problems).items():
        problems += _factory_problems("CHANNELS", code, factory, kwargs, key_dir)
    if values.get("SANDBOX_CHANNELS"):
        problems.append("SANDBOX_CHANNELS: must be empty in production (configure CHANNELS)")
    if values.get("SHOW_DEMO_PEOPLE"):
        problems.append("SHOW_DEMO_PEOPLE: the demo people are never shown in production")
    if not values.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE: must be true in production (cookies only over HTTPS)")
    if problems:
        raise SettingsError(problems)
