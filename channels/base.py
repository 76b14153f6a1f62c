"""The channel port: what the core asks of every channel a payer comes through.

Standard library only. A channel adapter (``channels/<code>/``) wraps one entry point —
公众号, 城市服务, 市民中心, 云闪付, and later the tax app and the web e-tax bureau — behind
these calls; the core never sees an SDK object, an access token or a channel's signature.

What a channel provides:
- **who the user is**: ``entry`` says how authorization starts (an authorize URL to open, or
  the parameters of the channel app's own JS SDK), ``authenticate`` turns the code the channel
  hands back into a ``ChannelUser`` (the channel's user id: openid, Alipay user id, 云闪付
  openId). Channels with our own accounts (tax app, web e-tax) authenticate a login ticket
  the same way, so adding them is one more package;
- **how a payment starts inside it**: ``payment_methods`` it can start, ``payer_ref`` (the
  payer id a provider needs, e.g. the openid of WeChat Pay JSAPI) and ``start_payment``, which
  turns an opened payment into what the channel's page does (chooseWXPay, a redirect, ...);
- **its menus**, built from the four modules every channel repeats (缴费, 缴费档次或基数选择,
  特殊缴费, 缴费记录), and ``page_config`` for its pages (the WeChat JS-SDK signature).

A channel that receives messages from its platform (the official account) also implements
``MessageEndpoint``. Adapters raise ``AuthFailed`` when the user must authorize again,
``ChannelUnavailable`` for the platform's trouble, and ``RequestRefused`` for bad input.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol, runtime_checkable

# How a channel's user is authenticated.
AUTH_OAUTH = "oauth_redirect"  # open ``Entry.url``; the channel comes back to redirect_uri with a code
AUTH_APP_SDK = "app_sdk"  # the channel app's JS SDK hands the page a code (``Entry.params``)
AUTH_ACCOUNT = "account"  # our own registered accounts (tax app, web e-tax): a login ticket

# How a payment is started inside a channel (``PaymentStart.kind``).
START_WECHAT_JSAPI = "wechat_jsapi"  # WeixinJSBridge getBrandWCPayRequest / wx.chooseWXPay(params)
START_REDIRECT = "redirect"  # open ``url`` in the channel's browser (Alipay wap cashier)
START_OPEN_QR_IN_APP = "open_qr_in_app"  # the channel app opens the QR payment itself (云闪付)
START_SHOW_QR = "show_qr"  # show ``url`` as a QR code to scan with another app

# The four modules every channel repeats, plus base voiding (基数作废).
MODULE_PAY = "pay"  # 缴费
MODULE_CHOOSE = "choose"  # 缴费档次或基数选择
MODULE_SPECIAL = "special"  # 特殊缴费
MODULE_RECORDS = "records"  # 缴费记录
MODULE_VOID_CHOICE = "void_choice"  # 基数作废
MODULE_PROXY = "proxy"  # 代他人缴费: identify the person paid for (缴费人), then pay
MODULE_DECLARATIONS = "declarations"  # 社保费申报查询, with 申报作废
MODULE_CERTIFICATES = "certificates"  # 完税（费）证明: 开具, 代他人开具, 补开
MODULE_STATEMENT = "statement"  # 缴费清单
MODULE_RECORD = "contribution_record"  # 缴费证明
MODULE_REFUNDS = "refunds"  # 退费申请: the applications and how each stands (applying needs an account)
MODULES = (MODULE_PAY, MODULE_CHOOSE, MODULE_SPECIAL, MODULE_RECORDS, MODULE_VOID_CHOICE, MODULE_PROXY,
           MODULE_DECLARATIONS, MODULE_CERTIFICATES, MODULE_STATEMENT, MODULE_RECORD, MODULE_REFUNDS)
GUIZHOU = "520000"  # 贵州省: its 公众号 and city service have their own function list (seed 003)


class AuthFailed(Exception):
    """The channel refused the code (invalid, used, expired): the user must authorize again."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class ChannelUnavailable(Exception):
    """The channel's platform could not be reached, or answered what we cannot trust."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class RequestRefused(Exception):
    """Our caller asked for something the channel does not allow (e.g. a page outside its domain)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ChannelUser:
    """A user as the channel knows them. ``user_id`` is what orders record as the channel user."""

    channel: str
    user_id: str
    display: str = ""  # something the page may show; never a real name
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EntryRequest:
    """Start authorization: where to come back, our anti-forgery state, and the region chosen."""

    redirect_uri: str
    state: str
    region: str | None = None


@dataclass(frozen=True)
class Entry:
    """How the page gets a code: open ``url`` (OAuth), or call the app SDK with ``params``."""

    kind: str
    url: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthGrant:
    """What came back from the channel's authorization."""

    code: str
    state: str = ""


@dataclass(frozen=True)
class OpenedPayment:
    """A payment the core opened at a provider, channel-independently."""

    order_no: str
    method: str  # "provider.method", e.g. "wechatpay.jsapi"
    amount_fen: int
    pay_url: str | None = None
    qr_code: str | None = None
    app_params: Mapping[str, str] | None = None


@dataclass(frozen=True)
class PaymentStart:
    """What the channel's page does to let the payer pay."""

    kind: str
    url: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MenuItem:
    """One entry of a channel's menu: a module, narrowed by ``filters`` (insurance, kind)."""

    key: str
    title: str
    module: str
    filters: Mapping[str, str] = field(default_factory=dict)
    children: tuple["MenuItem", ...] = ()


@dataclass(frozen=True)
class InboundMessage:
    """A platform's HTTP call to our message endpoint, as received."""

    method: str
    query: Mapping[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class MessageReply:
    """The HTTP answer to a platform message."""

    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


def standard_menu() -> tuple[MenuItem, ...]:
    """The four modules of seed 002 as every channel shows them unless it says otherwise."""
    return (MenuItem("pay", "缴费", MODULE_PAY), MenuItem("choose", "缴费档次或基数选择", MODULE_CHOOSE),
            MenuItem("special", "特殊缴费", MODULE_SPECIAL), MenuItem("records", "缴费记录", MODULE_RECORDS))


def lookback_menu() -> tuple[MenuItem, ...]:
    """Looking back, offered beside every channel's own modules."""
    return (MenuItem("declarations", "社保费申报查询", MODULE_DECLARATIONS),
            MenuItem("certificates", "完税证明", MODULE_CERTIFICATES),
            MenuItem("statement", "缴费清单", MODULE_STATEMENT),
            MenuItem("contribution_record", "缴费证明", MODULE_RECORD))


def guizhou_menu() -> tuple[MenuItem, ...]:
    """贵州's 社保费功能列表 (seed 003): 自主缴费, 代他人缴费, 社保费申报查询, 完税证明查询."""
    return (MenuItem("pay", "自主缴费", MODULE_PAY), MenuItem("proxy", "代他人缴费", MODULE_PROXY),
            MenuItem("declarations", "社保费申报查询", MODULE_DECLARATIONS),
            MenuItem("certificates", "完税证明查询", MODULE_CERTIFICATES))


def find_menu_item(items: tuple[MenuItem, ...], key: str) -> MenuItem | None:
    """The item with this key, at any depth."""
    for item in items:
        if item.key == key:
            return item
        found = find_menu_item(item.children, key)
        if found is not None:
            return found
    return None


@runtime_checkable
class ChannelAdapter(Protocol):
    """What the core asks of a channel."""

    code: str  # "wechat_oa", "wechat_city", "alipay_citizen", "unionpay_app", ...
    title: str  # what a payer calls it: 微信公众号, 支付宝市民中心, ...
    auth_kind: str  # AUTH_OAUTH, AUTH_APP_SDK or AUTH_ACCOUNT
    needs_region: bool  # the entry names a region (城市服务: the city chosen)
    payment_methods: tuple[str, ...]  # "provider.method" it can start, e.g. ("wechatpay.jsapi",)

    def entry(self, request: EntryRequest) -> Entry:
        """How the page starts authorization."""

    def authenticate(self, grant: AuthGrant) -> ChannelUser:
        """The code the channel handed back → its user; AuthFailed / ChannelUnavailable otherwise."""

    def payer_ref(self, user: ChannelUser) -> str | None:
        """The payer's id a provider needs for this channel's method (WeChat Pay JSAPI: openid)."""

    def start_payment(self, payment: OpenedPayment) -> PaymentStart:
        """What the channel's page does with an opened payment."""

    def menu(self, region: str | None = None) -> tuple[MenuItem, ...]:
        """The channel's menu, built from the shared modules; ``region`` is the payer's (统筹区 code)."""

    def page_config(self, url: str) -> Mapping[str, object]:
        """What the channel's page script needs for ``url`` (WeChat JS-SDK config); may be empty."""


@runtime_checkable
class MessageEndpoint(Protocol):
    """A channel whose platform calls us with messages (the official account's server URL)."""

    def handle_message(self, message: InboundMessage) -> MessageReply:
        """Check the platform's signature, then answer; a forged call gets 403 and nothing else."""
