"""The citizen center wired to the Alipay payment sandbox, which also serves Alipay's login."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping


def sandbox_settings(key_dir: str | Path, urls: Mapping[str, str], public_base_url: str,
                     token_store_url: str | None = None) -> tuple[str, dict]:
    """(factory path, kwargs) of this channel against the gateway at ``urls["alipay"]``, with its keys."""
    from payments.sandbox.alipay import sandbox_provider_settings

    alipay = sandbox_provider_settings(Path(key_dir) / "alipay", urls["alipay"])
    return "channels.alipay_citizen.adapter:build", {
        "app_id": alipay["app_id"], "app_private_key": alipay["app_private_key"],
        "alipay_public_key": alipay["alipay_public_key"], "gateway_url": alipay["gateway_url"],
        "authorize_url": urls["alipay"].rstrip("/") + "/oauth2/publicAppAuthorize.htm"}
