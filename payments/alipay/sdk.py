"""python-alipay-sdk, imported here and only when an Alipay client is built.

The SDK brings pycryptodome with it; a process that never pays (the bulk declaration, a
migration) must not load them. The provider and the citizen-center channel import this module
when they build their client, so their factory modules stay cheap to import — the production
settings check imports each configured factory to bind its settings.
"""
from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig

__all__ = ("AliPayException", "AliPayValidationError", "client")

# Importing the SDK ran logging.config.dictConfig (alipay/loggers.py), which flushed and closed the
# handlers configured before (ours, a stream handler, keeps working) and gave "python-alipay-sdk"
# a console handler of its own at DEBUG, past the scrubbing: its lines go through ours instead.
logging.getLogger("python-alipay-sdk").handlers.clear()
logging.getLogger("python-alipay-sdk").setLevel(logging.NOTSET)

SHANGHAI = ZoneInfo("Asia/Shanghai")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class _Client(AliPay):
    """The SDK's client, stamping requests in Beijing time whatever the host's time zone.

    ``BaseAliPay.build_body`` uses ``datetime.now()``; the gateway reads it as Beijing time.
    """

    def build_body(self, method, biz_content=None, **kwargs):
        data = super().build_body(method, biz_content, **kwargs)
        data["timestamp"] = datetime.now(SHANGHAI).strftime(_TIME_FORMAT)
        return data


def client(*, app_id: str, app_private_key: str, alipay_public_key: str, gateway_url: str,
           timeout_seconds: float) -> AliPay:
    """An RSA2 client of the open platform at ``gateway_url``; the keys are PEM text."""
    sdk = _Client(appid=str(app_id), app_private_key_string=app_private_key,
                  alipay_public_key_string=alipay_public_key, sign_type="RSA2",
                  config=AliPayConfig(timeout=timeout_seconds))
    # The SDK knows only Alipay's production and sandbox gateways (its ``debug`` switch); every
    # call reads the URL from the private ``_gateway``, so that is where ours goes.
    sdk._gateway = gateway_url
    return sdk
