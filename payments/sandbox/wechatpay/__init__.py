"""The WeChat Pay sandbox gateway (API v3) and the provider settings that point at it.

``create_sandbox_app(key_dir, time_scale)`` builds the gateway (see ``app``);
``sandbox_provider_settings(key_dir, sandbox_url)`` gives the kwargs of
``payments.wechatpay.provider:build`` that talk to it with the keys it generated.
"""
from __future__ import annotations

from pathlib import Path

from payments.sandbox.wechatpay.app import create_sandbox_app, shutdown_sandbox
from payments.sandbox.wechatpay.keys import SandboxKeys

__all__ = ["create_sandbox_app", "sandbox_provider_settings", "shutdown_sandbox"]


def sandbox_provider_settings(key_dir: Path, sandbox_url: str) -> dict:
    """Settings for the WeChat Pay provider against a sandbox at ``sandbox_url``.

    Secrets are given as files in ``key_dir``, as a merchant keeps them; the JSAPI pay URL
    points at the sandbox cashier so a browser without WeChat can finish paying.
    """
    keys = SandboxKeys.ensure(key_dir)
    base = sandbox_url.rstrip("/")
    return {
        "mchid": keys.mchid,
        "appid": keys.appid,
        "merchant_serial_no": keys.merchant_serial_no,
        "private_key_file": str(keys.merchant_private_key_file),
        "apiv3_key_file": str(keys.apiv3_key_file),
        "platform_public_key_file": str(keys.platform_public_key_file),
        "platform_public_key_id": keys.platform_public_key_id,
        "gateway_url": base,
        "timeout_seconds": 10.0,
        "jsapi_pay_url_template": base + "/cashier/{prepay_id}",
    }
