"""The 云闪付 app as a channel: its user authorization, its three menus, UnionPay payment.

Authorization: inside the app the page calls ``upsdk.appletAuth`` (scope ``upapi_base``) and
hands us the code; in a plain browser it goes through the open platform's ``oauth.html``
(``Entry.url``). The code becomes the user's openId through the open platform
(``open_platform.py``).

Its three menus, as seed 002 describes the 云闪付 社保缴费 home: 社保（养老）自助缴费 and
医保（医疗）自助缴费 (the payment modules narrowed to pension / medical enrollments, each with
base setting and voiding — 基数作废 — and 缴费明细查询), and 社保（医保）费补缴 (back payment for
past periods, with the special assessments pushed by the bureaus, and its 缴费明细查询).
Every item is one of the shared modules; looking back is offered beside them.

Payment: UnionPay QR (主扫) opened in the app: the page shows a button that hands the QR
code's URL to the app's payment control, never a QR code to scan with the same phone.

Settings, the keyword arguments of ``build``:

    app_id, secret          the application at the open platform
    open_base_url           default https://open.95516.com
    platform_public_key     PEM text or path; when set, every answer's signature is checked
    scope                   default upapi_base
    timeout_seconds         default 5
"""
from __future__ import annotations

from typing import Mapping
from urllib.parse import urlencode

from app.domain.labels import CHANNEL_LABELS
from channels.base import (AUTH_APP_SDK, MODULE_CHOOSE, MODULE_PAY, MODULE_RECORDS, MODULE_SPECIAL,
                           MODULE_VOID_CHOICE, START_OPEN_QR_IN_APP, AuthGrant, ChannelUser, Entry, EntryRequest,
                           MenuItem, OpenedPayment, PaymentStart, RequestRefused, lookback_menu)
from channels.unionpay_app.open_platform import OPEN_BASE_URL, OpenPlatformClient

QR = "unionpay.qr"

MENU = (
    MenuItem("pension", "社保（养老）自助缴费", MODULE_PAY, {"insurance": "pension"}, children=(
        MenuItem("pension_pay", "缴费", MODULE_PAY, {"insurance": "pension"}),
        MenuItem("pension_choose", "缴费基数设置", MODULE_CHOOSE, {"insurance": "pension"}),
        MenuItem("pension_void", "基数作废", MODULE_VOID_CHOICE, {"insurance": "pension"}),
        MenuItem("pension_records", "缴费明细查询", MODULE_RECORDS, {"insurance": "pension"}),
    )),
    MenuItem("medical", "医保（医疗）自助缴费", MODULE_PAY, {"insurance": "medical"}, children=(
        MenuItem("medical_pay", "缴费", MODULE_PAY, {"insurance": "medical"}),
        MenuItem("medical_choose", "缴费基数设置", MODULE_CHOOSE, {"insurance": "medical"}),
        MenuItem("medical_void", "基数作废", MODULE_VOID_CHOICE, {"insurance": "medical"}),
        MenuItem("medical_records", "缴费明细查询", MODULE_RECORDS, {"insurance": "medical"}),
    )),
    MenuItem("back_payment", "社保（医保）费补缴", MODULE_PAY, {"kind": "back"}, children=(
        MenuItem("back_declare", "补缴申报", MODULE_PAY, {"kind": "back"}),
        MenuItem("special", "特殊缴费", MODULE_SPECIAL, {"kind": "special"}),
        MenuItem("back_records", "缴费明细查询", MODULE_RECORDS, {"kind": "back"}),
    )),
)

class UnionPayAppChannel:
    """云闪付: openId from the app's authorization; UnionPay QR opened inside the app."""

    code = "unionpay_app"
    title = CHANNEL_LABELS["unionpay_app"]
    auth_kind = AUTH_APP_SDK
    needs_region = False
    payment_methods = (QR,)

    def __init__(self, client: OpenPlatformClient, scope: str = "upapi_base"):
        self._client = client
        self._scope = scope

    def entry(self, request: EntryRequest) -> Entry:
        query = urlencode({"appId": self._client.app_id, "redirectUri": request.redirect_uri,
                           "responseType": "code", "scope": self._scope, "state": request.state})
        # inside the app the page calls upsdk.appletAuth with these; elsewhere it opens the URL
        return Entry(AUTH_APP_SDK, url=f"{self._client.base_url}/s/open/html/oauth.html?{query}",
                     params={"appId": self._client.app_id, "scope": self._scope, "state": request.state})

    def authenticate(self, grant: AuthGrant) -> ChannelUser:
        open_id = self._client.open_id_for_code(grant.code)
        return ChannelUser(self.code, open_id, display=f"云闪付用户（…{open_id[-4:]}）")

    def payer_ref(self, user: ChannelUser) -> str | None:
        return None

    def start_payment(self, payment: OpenedPayment) -> PaymentStart:
        if payment.method != QR or not payment.qr_code:
            raise RequestRefused("method_not_startable", f"{payment.method} cannot start in 云闪付")
        return PaymentStart(START_OPEN_QR_IN_APP, url=payment.qr_code, params={"qrCode": payment.qr_code})

    def menu(self, region: str | None = None) -> tuple[MenuItem, ...]:
        return MENU + lookback_menu()

    def page_config(self, url: str) -> Mapping[str, object]:
        return {}


def build(*, app_id: str, secret: str, open_base_url: str = OPEN_BASE_URL, platform_public_key: str | None = None,
          scope: str = "upapi_base", timeout_seconds: float = 5.0) -> UnionPayAppChannel:
    """The 云闪付 channel from plain settings (see the module docstring)."""
    return UnionPayAppChannel(OpenPlatformClient(app_id=app_id, secret=secret, base_url=open_base_url,
                                                 platform_public_key=platform_public_key,
                                                 timeout_seconds=timeout_seconds), scope=scope)
