"""A local bank for debit agreements and batch debit (委托扣款, 统一扣款), and the settings to use it.

``create_sandbox_app(key_dir, time_scale, clock=None)`` builds the bank (``app.py``, books in
``ledger.py``, its side of the files in ``files.py``); on first start it generates the MAC key
shared with us into ``key_dir``. ``sandbox_provider_settings(key_dir, url)`` gives the kwargs of
``payments.agreement.provider:build`` that talk to it with that key.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from payments.sandbox.bank.app import create_bank_app

KEY_FILE = "mac.key"
BANK_CODE = "ccb"


def ensure_key(key_dir: Path) -> Path:
    path = Path(key_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(secrets.token_hex(32))
        os.replace(tmp, path)
    return path


def create_sandbox_app(key_dir: Path, time_scale: float = 1.0, clock=None):
    """The bank; ``clock`` (default: the system clock) decides when late answers arrive."""
    if clock is None:
        from datetime import datetime
        from zoneinfo import ZoneInfo

        class _SystemClock:
            def now(self):
                return datetime.now(ZoneInfo("Asia/Shanghai"))

        clock = _SystemClock()
    return create_bank_app(bytes.fromhex(ensure_key(key_dir).read_text().strip()), clock, BANK_CODE)


def sandbox_provider_settings(key_dir: Path, sandbox_url: str) -> dict:
    """The kwargs of ``payments.agreement.provider:build`` for the bank at ``sandbox_url``."""
    return {"bank_code": BANK_CODE, "api_url": sandbox_url.rstrip("/") + "/api",
            "mac_key_file": str(ensure_key(key_dir)), "timeout_seconds": 10.0}


__all__ = ["create_sandbox_app", "sandbox_provider_settings"]
