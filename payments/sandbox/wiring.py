"""Wires the providers to the local sandbox gateways: their settings, and serving them.

Used by the composition root when no real provider is configured (the run command, the
browser tests, the benchmark) — the providers themselves never know they talk to a sandbox.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Mapping

from payments.sandbox.common import ServedApp

GATEWAYS = ("wechatpay", "alipay", "unionpay", "ccb")
# the bank sandbox serves the debit-agreement provider (协议缴纳, 统一扣款); wired when its URL is configured
BANKS = {"bank": "agreement"}
SANDBOXES = GATEWAYS + tuple(BANKS)


def sandbox_provider_settings(key_dir: str | Path, urls: Mapping[str, str], public_base_url: str,
                              bank_keys: Mapping[str, str] | None = None) -> dict:
    """``{code: (factory path, kwargs)}`` for every provider, pointed at the sandboxes."""
    settings = {}
    for code in GATEWAYS:
        module = importlib.import_module(f"payments.sandbox.{code}")
        settings[code] = (f"payments.{code}.provider:build",
                          module.sandbox_provider_settings(Path(key_dir) / code, urls[code]))
    settings["counter"] = ("payments.counter.provider:build",
                           {"bank_keys": dict(bank_keys or {}),
                            "voucher_base_url": public_base_url.rstrip("/") + "/api/v1/vouchers"})
    for code, provider in BANKS.items():
        if code in urls:
            module = importlib.import_module(f"payments.sandbox.{code}")
            settings[provider] = (f"payments.{provider}.provider:build",
                                  module.sandbox_provider_settings(Path(key_dir) / code, urls[code]))
    return settings


def start_sandboxes(key_dir: str | Path, urls: Mapping[str, str], time_scale: float = 1.0) -> list[ServedApp]:
    """Serve every sandbox gateway on its configured port, in background threads."""
    served = []
    for code in (c for c in SANDBOXES if c in urls):
        module = importlib.import_module(f"payments.sandbox.{code}")
        port = int(urls[code].rsplit(":", 1)[1].split("/")[0])
        served.append(ServedApp(module.create_sandbox_app(Path(key_dir) / code, time_scale=time_scale),
                                port=port).start())
    return served
