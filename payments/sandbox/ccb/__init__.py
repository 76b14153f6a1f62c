"""A local CCB (建行支付) bank for development and tests, and the provider settings to use it.

``create_sandbox_app(key_dir, time_scale)`` builds the bank (``app.py``); on first start it
generates the bank's key and the merchant's key into ``key_dir``. ``sandbox_provider_settings``
gives the kwargs of ``payments.ccb.provider:build`` that talk to a running sandbox.
"""
from __future__ import annotations

from pathlib import Path

from payments.sandbox.ccb.app import BANK_KEY, MERCHANT, MERCHANT_KEY, create_bank_app
from payments.sandbox.common import ensure_rsa_key, public_pem


def create_sandbox_app(key_dir: Path, time_scale: float = 1.0):
    return create_bank_app(Path(key_dir), time_scale=time_scale)


def sandbox_provider_settings(key_dir: Path, sandbox_url: str) -> dict:
    key_dir = Path(key_dir)
    return {"merchant_id": MERCHANT["MERCHANTID"], "pos_id": MERCHANT["POSID"], "branch_id": MERCHANT["BRANCHID"],
            "merchant_key": ensure_rsa_key(key_dir / MERCHANT_KEY).decode(),
            "bank_public_key": public_pem(ensure_rsa_key(key_dir / BANK_KEY)).decode(),
            "gateway_url": sandbox_url, "timeout": 5.0}


__all__ = ["create_sandbox_app", "sandbox_provider_settings"]
