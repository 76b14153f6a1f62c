"""A local UnionPay ACP 5.1.0 gateway for development and tests, and the provider settings to use it.

``create_sandbox_app(key_dir, time_scale)`` builds the gateway (``app.py``); on first start it
generates UnionPay's CA chain and signing certificate and the merchant's signing certificate
into ``key_dir`` (``pki.py``). ``sandbox_provider_settings`` gives the kwargs of
``payments.unionpay.provider:build`` that talk to a running sandbox with those keys.
"""
from __future__ import annotations

from pathlib import Path

from payments.sandbox.unionpay.app import create_sandbox_app
from payments.sandbox.unionpay.pki import MER_ID, MERCHANT_CERT, MERCHANT_KEY, MIDDLE_CERT, ROOT_CERT, ensure_pki


def sandbox_provider_settings(key_dir: Path, sandbox_url: str) -> dict:
    """The kwargs of ``payments.unionpay.provider:build`` for the sandbox at ``sandbox_url``."""
    key_dir = Path(key_dir)
    ensure_pki(key_dir)
    base = sandbox_url.rstrip("/")
    return {
        "mer_id": MER_ID,
        "sign_key": str(key_dir / MERCHANT_KEY),
        "sign_cert": str(key_dir / MERCHANT_CERT),
        "root_cert": str(key_dir / ROOT_CERT),
        "middle_cert": str(key_dir / MIDDLE_CERT),
        "gateway_url": base,
        "file_transfer_url": f"{base}/fileTransfer.do",
        "timeout": 5.0,
        "check_cn": True,
    }


__all__ = ["create_sandbox_app", "sandbox_provider_settings"]
