"""云闪付 wired to the local open-platform sandbox (``channels/sandbox/unionpay_open.py``)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping


def sandbox_settings(key_dir: str | Path, urls: Mapping[str, str], public_base_url: str,
                     token_store_url: str | None = None) -> tuple[str, dict]:
    """(factory path, kwargs) of this channel against the sandbox at ``urls["unionpay_open"]``."""
    from channels.sandbox.unionpay_open import ensure_account

    account = ensure_account(key_dir)
    return "channels.unionpay_app.adapter:build", {
        "app_id": account.app_id, "secret": account.secret, "open_base_url": urls["unionpay_open"],
        "platform_public_key": str(account.platform_public_key_file)}
