"""The official account wired to the local WeChat sandbox (``channels/sandbox/wechat.py``)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping


def sandbox_settings(key_dir: str | Path, urls: Mapping[str, str], public_base_url: str,
                     token_store_url: str | None = None) -> tuple[str, dict]:
    """(factory path, kwargs) of this channel against the sandbox at ``urls["wechat"]``."""
    from channels.sandbox.wechat import ensure_account

    account = ensure_account(key_dir)
    base = public_base_url.rstrip("/")
    return "channels.wechat_oa.adapter:build", {
        "app_id": account.appid, "secret": account.secret, "token": account.token,
        "encoding_aes_key": account.encoding_aes_key, "entry_url": f"{base}/channels/wechat_oa/start",
        "api_base_url": urls["wechat"], "oauth_base_url": urls["wechat"].rstrip("/") + "/connect/",
        "page_url_prefixes": [base + "/"], "token_store_url": token_store_url or None}
