"""The tax app channel (``tax_app``): 税税通 (青岛, seed 002) and 移动办税 (西藏, seed 004).

Its users are our own accounts. ``entry`` sends the payer to the account sign-in page with the
entry's one-time state; once signed in (password + SMS code, and the privacy consent), the
account service hands back a login ticket as the "authorization code": base64url of
``<account id>.<state>.<HMAC-SHA256 hex>`` keyed by the secret both sides share. The ticket is
bound to the state, which the core takes once, so a ticket opens one channel session only.

Menus as the seeds give them: 002's 办税 → 个人办税 → 灵活就业、居民社保费缴纳 (缴费, 缴费档次或基数选择,
特殊缴费, 缴费记录) and 查询 → 公众查询 → 社保费完税证明; 004's 社保 → 申报及缴纳 (社保费申报及缴纳,
社保费缴费基数确认, 申报作废), 社保费正常缴费退费申请 and 查询 (参保信息, 已申报信息, 已缴费信息). Payments: QR codes are
shown to scan with another app (支付宝: save the picture to the album, seed 004); 建行支付
opens the bank's page.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

from channels.base import (AUTH_ACCOUNT, MODULE_CHOOSE, MODULE_PAY, MODULE_RECORDS, MODULE_REFUNDS, MODULE_SPECIAL,
                           MODULE_VOID_CHOICE, START_REDIRECT, START_SHOW_QR, AuthFailed, ChannelUser, Entry,
                           MenuItem, PaymentStart, RequestRefused)


def read_ticket(secret: bytes, ticket: str, state: str) -> str:
    """The account id a ticket names, if it is ours and bound to this state; AuthFailed otherwise."""
    try:
        raw = base64.urlsafe_b64decode(ticket + "=" * (-len(ticket) % 4)).decode()
        account_id, ticket_state, mac = raw.split(".", 2)
    except (ValueError, UnicodeDecodeError):
        raise AuthFailed("ticket_malformed") from None
    expected = hmac.new(secret, f"{account_id}.{ticket_state}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected):
        raise AuthFailed("ticket_forged")
    if ticket_state != state:
        raise AuthFailed("ticket_state_mismatch")
    return account_id


def menu_002() -> tuple[MenuItem, ...]:
    fees = MenuItem("flexible_resident", "灵活就业、居民社保费缴纳", MODULE_PAY, children=(
        MenuItem("pay", "缴费", MODULE_PAY), MenuItem("choose", "缴费档次或基数选择", MODULE_CHOOSE),
        MenuItem("special", "特殊缴费", MODULE_SPECIAL), MenuItem("records", "缴费记录", MODULE_RECORDS)))
    return (MenuItem("tax", "办税", MODULE_PAY, children=(MenuItem("personal", "个人办税", MODULE_PAY,
                                                                  children=(fees,)),)),
            MenuItem("query", "查询", MODULE_RECORDS, children=(MenuItem("public", "公众查询", MODULE_RECORDS, children=(
                MenuItem("certificates", "社保费完税证明", MODULE_RECORDS, {"view": "certificates"}),)),)))


def menu_004() -> tuple[MenuItem, ...]:
    return (MenuItem("social", "社保", MODULE_PAY, children=(
        MenuItem("declare_pay", "申报及缴纳", MODULE_PAY, children=(
            MenuItem("declare_and_pay", "社保费申报及缴纳", MODULE_PAY),
            MenuItem("base", "社保费缴费基数确认", MODULE_CHOOSE),
            MenuItem("void", "申报作废", MODULE_VOID_CHOICE, {"view": "declarations"}))),
        MenuItem("refund", "社保费正常缴费退费申请", MODULE_REFUNDS),
        MenuItem("queries", "查询业务", MODULE_RECORDS, children=(
            MenuItem("enrollments", "参保信息查询", MODULE_RECORDS, {"view": "enrollments"}),
            MenuItem("declared", "社保费已申报信息查询", MODULE_RECORDS, {"view": "declarations"}),
            MenuItem("paid", "社保费已缴费信息查询", MODULE_RECORDS),
            MenuItem("cert_issue", "社保费完税证明开具", MODULE_RECORDS, {"view": "certificates"}),
            MenuItem("cert_verify", "社保费完税证明查验", MODULE_RECORDS, {"view": "verify"}))))),)


class TaxAppChannel:
    code, title, auth_kind, needs_region = "tax_app", "税税通 / 移动办税", AUTH_ACCOUNT, False
    payment_methods = ("wechatpay.native", "alipay.qr", "unionpay.qr", "ccb.card")

    def __init__(self, login_url: str, ticket_secret: str | bytes):
        self.login_url = login_url
        self._secret = ticket_secret.encode() if isinstance(ticket_secret, str) else ticket_secret

    def entry(self, request):
        query = {"state": request.state, "channel": self.code, "redirect_uri": request.redirect_uri}
        return Entry(AUTH_ACCOUNT, url=f"{self.login_url}?{urlencode(query)}", params={"state": request.state})

    def authenticate(self, grant):
        account_id = read_ticket(self._secret, grant.code, grant.state)
        return ChannelUser(self.code, f"account:{account_id}", display="办税账户")

    def payer_ref(self, user):
        return None

    def start_payment(self, payment):
        if payment.method == "ccb.card" and payment.pay_url:
            return PaymentStart(START_REDIRECT, url=payment.pay_url)
        if payment.qr_code:
            return PaymentStart(START_SHOW_QR, url=payment.qr_code)
        raise RequestRefused("method_not_startable", payment.method)

    def menu(self, region: str | None = None) -> tuple[MenuItem, ...]:
        """Both seeds' menus (002 青岛, 004 西藏) whatever the region: the account's person picks."""
        return menu_002() + menu_004()

    def page_config(self, url):
        return {}


def build(*, login_url: str, ticket_secret: str) -> TaxAppChannel:
    return TaxAppChannel(login_url, ticket_secret)
