"""The Alipay citizen center (支付宝市民中心) as a channel, through python-alipay-sdk.

The service opens in Alipay's browser; silent authorization (``auth_base``) at
``publicAppAuthorize.htm`` comes back with ``auth_code``, which ``alipay.system.oauth.token``
(grant_type ``authorization_code``) exchanges for the user's id: ``user_id`` (2088…), or
``open_id`` for applications created since Alipay moved to open ids. The SDK has no helper for
this method: the call is built with its ``build_body`` and checked with its
``verified_sync_response`` (RSA2 over the raw ``alipay_system_oauth_token_response``).
Alipay sends a refused code as an unsigned ``error_response`` (the SDK raises
``AliPayException``) — ``isv.code-invalid`` and friends mean the user must authorize again.
Payments are Alipay wap (the cashier opens inside Alipay). The SDK is loaded when the channel is
built (``payments/alipay/sdk.py``, the client the Alipay provider uses too), not when this module
is imported.

Settings, the keyword arguments of ``build``:

    app_id              the citizen-center application's APPID
    app_private_key     our application private key: PEM text or the path of a PEM file
    alipay_public_key   Alipay's public key: PEM text or path
    gateway_url         default https://openapi.alipay.com/gateway.do
    authorize_url       default https://openauth.alipay.com/oauth2/publicAppAuthorize.htm
    timeout_seconds     default 5
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Mapping
from urllib.error import URLError
from urllib.parse import urlencode

from app.domain.labels import CHANNEL_LABELS
from channels.base import (AUTH_OAUTH, START_REDIRECT, AuthFailed, AuthGrant, ChannelUnavailable, ChannelUser,
                           Entry, EntryRequest, MenuItem, OpenedPayment, PaymentStart, RequestRefused,
                           lookback_menu, standard_menu)

if TYPE_CHECKING:
    from alipay import AliPay

log = logging.getLogger(__name__)

GATEWAY_URL = "https://openapi.alipay.com/gateway.do"
AUTHORIZE_URL = "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm"
METHOD = "alipay.system.oauth.token"
WAP = "alipay.wap"


class AlipayCitizenChannel:
    """市民中心: auth code → Alipay user id; Alipay wap pay."""

    code = "alipay_citizen"
    title = CHANNEL_LABELS["alipay_citizen"]
    auth_kind = AUTH_OAUTH
    needs_region = False
    payment_methods = (WAP,)

    def __init__(self, client: AliPay, app_id: str, authorize_url: str):
        self._client = client
        self._app_id = app_id
        self._authorize_url = authorize_url

    def entry(self, request: EntryRequest) -> Entry:
        query = urlencode({"app_id": self._app_id, "scope": "auth_base", "redirect_uri": request.redirect_uri,
                           "state": request.state})
        return Entry(AUTH_OAUTH, url=f"{self._authorize_url}?{query}")

    def authenticate(self, grant: AuthGrant) -> ChannelUser:
        if not grant.code:
            raise AuthFailed("code_missing")
        data = self._client.build_body(METHOD, grant_type="authorization_code", code=grant.code)
        data.pop("biz_content", None)  # this method takes public parameters only
        from payments.alipay.sdk import AliPayException, AliPayValidationError  # loaded by build already

        try:
            answer = self._client.verified_sync_response(data, METHOD.replace(".", "_") + "_response")
        except AliPayValidationError as exc:
            raise ChannelUnavailable("answer_signature_invalid") from exc
        except AliPayException as exc:  # an unsigned error_response
            raw = str(exc)
            if "isv.code" in raw or "invalid-auth-code" in raw:
                raise AuthFailed("code_invalid", raw[:200]) from exc
            raise ChannelUnavailable("oauth_refused", raw[:200]) from exc
        except (URLError, OSError, ValueError) as exc:  # the SDK lets urllib and JSON errors through
            raise ChannelUnavailable("oauth_unreachable", type(exc).__name__) from exc
        user_id = answer.get("user_id") or answer.get("open_id")
        if not user_id:
            sub_code = str(answer.get("sub_code") or answer.get("code") or "")
            if sub_code.startswith("isv.code"):
                raise AuthFailed("code_invalid", str(answer.get("sub_msg", "")))
            raise ChannelUnavailable("oauth_unreadable", sub_code or "no user id in the answer")
        return ChannelUser(self.code, str(user_id), display=f"支付宝用户（…{str(user_id)[-4:]}）")

    def payer_ref(self, user: ChannelUser) -> str | None:
        return None  # the wap cashier learns the payer inside Alipay

    def start_payment(self, payment: OpenedPayment) -> PaymentStart:
        if payment.method != WAP or not payment.pay_url:
            raise RequestRefused("method_not_startable", f"{payment.method} cannot start in the citizen center")
        return PaymentStart(START_REDIRECT, url=payment.pay_url)

    def menu(self, region: str | None = None) -> tuple[MenuItem, ...]:
        return standard_menu() + lookback_menu()

    def page_config(self, url: str) -> Mapping[str, object]:
        return {}


def _pem(value: str, name: str) -> str:
    text = value if value.lstrip().startswith("-----BEGIN") else Path(value).read_text()
    if not text.lstrip().startswith("-----BEGIN"):
        raise ValueError(f"{name} must be a PEM key with its -----BEGIN line")
    return text


def build(*, app_id: str, app_private_key: str, alipay_public_key: str, gateway_url: str = GATEWAY_URL,
          authorize_url: str = AUTHORIZE_URL, timeout_seconds: float = 5.0) -> AlipayCitizenChannel:
    """The citizen-center channel from plain settings (see the module docstring)."""
    from payments.alipay import sdk

    client = sdk.client(app_id=str(app_id), app_private_key=_pem(app_private_key, "app_private_key"),
                        alipay_public_key=_pem(alipay_public_key, "alipay_public_key"), gateway_url=gateway_url,
                        timeout_seconds=timeout_seconds)
    return AlipayCitizenChannel(client, str(app_id), authorize_url)
