"""City services wired to the local WeChat sandbox (the official account's, as in production)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping


def sandbox_settings(key_dir: str | Path, urls: Mapping[str, str], public_base_url: str,
                     token_store_url: str | None = None) -> tuple[str, dict]:
    """(factory path, kwargs) of this channel against the sandbox at ``urls["wechat"]``."""
    from channels.sandbox.wechat import ensure_account

    account = ensure_account(key_dir)
    return "channels.wechat_city.adapter:build", {
        "app_id": account.appid, "secret": account.secret, "api_base_url": urls["wechat"],
        "oauth_base_url": urls["wechat"].rstrip("/") + "/connect/",
        "page_url_prefixes": [public_base_url.rstrip("/") + "/"], "token_store_url": token_store_url or None}
