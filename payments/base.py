"""The payment provider port: what the core asks of every payment provider.

Standard library only. A provider adapter (``payments/<code>/``) wraps one provider's SDK
and protocol behind these calls and answers with the typed results below; the core never
sees an SDK object, a signature or a yuan string. A provider answer is SUCCESS / FAIL /
WAITING / UNKNOWN, never a bare bool: UNKNOWN (timeout, 5xx, unreadable answer) is resolved
by querying later, never taken as FAIL.

Adapters never raise for provider or network trouble: they return UNKNOWN (or FAIL where the
provider said so) with ``error_code`` / ``error_message`` for the log. The exceptions are
``parse_notification``, which raises ``NotificationRejected`` for anything it cannot trust, and
``statement``, which raises ``StatementUnavailable`` rather than pass off trouble as an empty day.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Mapping, NamedTuple, Protocol, runtime_checkable


class ResultState(str, enum.Enum):
    """The outcome of a provider call, as far as the provider told us."""

    SUCCESS = "SUCCESS"
    FAIL = "FAIL"
    WAITING = "WAITING"  # accepted, the payer or the provider has not finished yet
    UNKNOWN = "UNKNOWN"  # we could not learn the outcome: query again later


class NotificationRejected(Exception):
    """A notification failed verification (signature, freshness, merchant/app id, format)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class StatementUnavailable(Exception):
    """A day's statement could not be fetched or trusted; reconciliation must run again later.

    ``statement`` raises it instead of returning [] so that trouble never reads as "no trades".
    """


@dataclass(frozen=True)
class PrepayRequest:
    """Ask the provider to open a payment for one of our orders."""

    order_no: str
    amount_fen: int
    description: str
    method: str  # one of the provider's ``methods``: "jsapi", "native", "wap", "qr", "voucher"
    notify_url: str
    expires_at: datetime  # timezone-aware
    return_url: str | None = None
    payer_ref: str | None = None  # the payer's id at the provider (WeChat openid), when the method needs it
    client_ip: str | None = None


@dataclass(frozen=True)
class PrepayResult:
    """What the payer needs to finish paying: a URL to open, a QR text, or in-app parameters."""

    state: ResultState  # WAITING when the payer can go on; FAIL when refused; UNKNOWN on trouble
    pay_url: str | None = None
    qr_code: str | None = None
    app_params: Mapping[str, str] | None = None  # e.g. WeChat JSAPI chooseWXPay parameters
    provider_ref: str | None = None  # prepay_id, voucher number, ...
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class TradeResult:
    """The provider's view of one payment (query and notification)."""

    state: ResultState
    order_no: str
    amount_fen: int | None = None
    provider_trade_no: str | None = None
    paid_at: datetime | None = None
    provider_state: str | None = None  # the provider's own word, e.g. NOTPAY, TRADE_SUCCESS, 00
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class RefundRequest:
    order_no: str
    refund_no: str
    amount_fen: int
    total_fen: int
    reason: str
    notify_url: str | None = None
    provider_trade_no: str | None = None


@dataclass(frozen=True)
class RefundResult:
    """A refund's outcome. ``not_found`` (with FAIL, from ``query_refund`` only): the provider has
    no refund by that number — it never arrived, and sending it again with the same number is safe."""

    state: ResultState
    order_no: str
    refund_no: str
    amount_fen: int | None = None
    provider_refund_no: str | None = None
    provider_state: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    not_found: bool = False


@dataclass(frozen=True)
class CloseResult:
    """SUCCESS: closed (or never opened). FAIL with error_code ``order_paid``: it was paid."""

    state: ResultState
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class IncomingNotification:
    """A provider's HTTP call to our notify URL, as received."""

    headers: Mapping[str, str]
    body: bytes
    content_type: str = ""


@dataclass(frozen=True)
class Notification:
    """A verified notification. ``kind`` is "payment" or "refund"."""

    kind: str
    order_no: str
    state: ResultState
    amount_fen: int
    provider_trade_no: str | None = None
    paid_at: datetime | None = None
    refund_no: str | None = None
    provider_refund_no: str | None = None
    notification_id: str | None = None
    provider_state: str | None = None
    raw: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Acknowledgement:
    """The HTTP answer the provider expects to a notification."""

    status: int
    body: bytes
    content_type: str = "text/plain"


class StatementLine(NamedTuple):
    """One line of a provider's daily statement (对账单).

    A named tuple rather than a frozen dataclass: a day's statement can hold a million lines,
    and a tuple is made in a fifth of the time.
    """

    kind: str  # "payment" or "refund"
    order_no: str
    amount_fen: int
    provider_trade_no: str | None = None
    refund_no: str | None = None
    at: datetime | None = None


@runtime_checkable
class PaymentProvider(Protocol):
    """What the core asks of a payment provider."""

    code: str  # "wechatpay", "alipay", "unionpay", "counter", ...
    methods: frozenset[str]

    def prepay(self, request: PrepayRequest) -> PrepayResult:
        """Open a payment at the provider."""

    def query(self, order_no: str) -> TradeResult:
        """Ask the provider how a payment stands."""

    def close(self, order_no: str) -> CloseResult:
        """Close an unpaid payment so it can no longer be paid."""

    def parse_notification(self, incoming: IncomingNotification) -> Notification:
        """Verify and decode a notification; raise NotificationRejected when it cannot be trusted."""

    def acknowledge(self, handled: bool) -> Acknowledgement:
        """The answer the provider expects: success when handled, a retry request otherwise."""

    def refund(self, request: RefundRequest) -> RefundResult:
        """Send money back by the original route."""

    def query_refund(self, order_no: str, refund_no: str) -> RefundResult:
        """Ask the provider how a refund stands."""

    def statement(self, day: date) -> list[StatementLine]:
        """The provider's statement of one day (Asia/Shanghai)."""
