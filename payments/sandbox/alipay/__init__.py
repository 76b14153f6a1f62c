"""A local Alipay open-platform gateway (支付宝开放平台) speaking Alipay's real protocol.

It checks our RSA2-signed requests with the public key the merchant "registered" (both key
pairs are generated into ``key_dir`` on first start), answers and notifies signed with its
own Alipay key, shows a cashier page where a person confirms or cancels, retries
notifications on Alipay's schedule, and serves the daily trade bill. ``/_control`` lets
tests and people flip faults and act as the payer.
"""
from payments.sandbox.alipay.app import create_sandbox_app, sandbox_provider_settings, stop_sandbox

__all__ = ["create_sandbox_app", "sandbox_provider_settings", "stop_sandbox"]
