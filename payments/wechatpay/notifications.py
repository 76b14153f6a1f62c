"""Verifying and reading WeChat Pay notifications (支付结果通知 / 退款结果通知).

Checks, in order: the Wechatpay-* headers are there; the serial names the platform public key we
hold; the timestamp is within 300 s of now (the SDK never looks at it); the RSA signature over
``TIMESTAMP\nNONCE\nBODY\n`` holds; the AEAD_AES_256_GCM resource decrypts with our APIv3 key;
its ``mchid`` (and for payments ``appid``) is ours. Signature and decryption are the SDK's own
pieces (``wechatpayv3.utils.rsa_verify`` and ``aes_decrypt``, the functions ``Core.callback``
uses), called directly so each refusal has its own reason. Order number and amount are left to
the core, which compares them with its order.
"""
from __future__ import annotations

import json
import logging
import time

from wechatpayv3.utils import aes_decrypt, load_public_key, rsa_verify

from payments.base import IncomingNotification, Notification, NotificationRejected
from payments.wechatpay.states import REFUND_STATES, TRADE_STATES, fen_of, moment

log = logging.getLogger(__name__)

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
# The SDK never looks at Wechatpay-Timestamp; a replayed notification is refused by its age.
MAX_SKEW_SECONDS = 300


def _header_key(name: str) -> str:
    # Frameworks hand headers over differently (Wechatpay-Serial, wechatpay-serial,
    # HTTP_WECHATPAY_SERIAL); one spelling keeps the checks below simple.
    name = name.lower()
    if name.startswith("http_"):
        name = name[5:]
    return name.replace("_", "-")


class NotificationReader:
    """Turns a notification we can trust into a Notification; refuses all others."""

    def __init__(self, *, mchid: str, appid: str, apiv3_key: str, platform_public_key: str,
                 platform_public_key_id: str):
        if len(apiv3_key.encode("utf-8")) != 32:
            raise ValueError("the APIv3 key must be 32 bytes (AEAD_AES_256_GCM)")
        self._mchid = mchid
        self._appid = appid
        self._apiv3_key = apiv3_key
        self._public_key = load_public_key(platform_public_key)
        self._public_key_id = platform_public_key_id

    def read(self, incoming: IncomingNotification) -> Notification:
        """The verified notification; NotificationRejected (logged) for anything untrustworthy."""
        try:
            return self._read(incoming)
        except NotificationRejected as rejected:
            log.warning("wechatpay notification rejected: %s %s", rejected.reason, rejected.detail)
            raise
        except Exception as exc:  # whatever else a hostile body provokes is untrustworthy too
            log.warning("wechatpay notification rejected: malformed (%s)", type(exc).__name__)
            raise NotificationRejected("malformed", type(exc).__name__) from exc

    def _read(self, incoming: IncomingNotification) -> Notification:
        headers = {_header_key(name): value for name, value in incoming.headers.items()}
        signature = headers.get("wechatpay-signature")
        timestamp = headers.get("wechatpay-timestamp")
        nonce = headers.get("wechatpay-nonce")
        serial = headers.get("wechatpay-serial")
        if not (signature and timestamp and nonce and serial):
            raise NotificationRejected("missing_signature", "a Wechatpay-* header is missing")
        if headers.get("wechatpay-signature-type") != SIGNATURE_TYPE:
            raise NotificationRejected("bad_signature", "unsupported signature type")
        # Checked before the signature: for a serial other than our public key id the SDK would
        # fetch /v3/certificates from the gateway, and a non-hex one makes it raise ValueError.
        if serial != self._public_key_id:
            raise NotificationRejected("unknown_serial", "Wechatpay-Serial is not our platform key")
        try:
            age = time.time() - int(timestamp)
        except ValueError:
            raise NotificationRejected("malformed", "Wechatpay-Timestamp is not a number") from None
        if abs(age) > MAX_SKEW_SECONDS:
            raise NotificationRejected("stale_timestamp", f"signed {int(age)} s ago")
        try:
            body = incoming.body.decode("utf-8")
        except UnicodeDecodeError:
            raise NotificationRejected("malformed", "body is not UTF-8") from None
        if not rsa_verify(timestamp, nonce, body, signature, self._public_key):
            raise NotificationRejected("bad_signature", "signature does not match the body")
        envelope, resource = self._decrypt(body)
        if resource.get("mchid") != self._mchid:
            raise NotificationRejected("wrong_merchant", "mchid is not ours")
        event_type = envelope.get("event_type")
        if not isinstance(event_type, str):
            raise NotificationRejected("malformed", "no event_type")
        if event_type.startswith("TRANSACTION."):
            if resource.get("appid") != self._appid:
                raise NotificationRejected("wrong_app", "appid is not ours")
            return self._payment_notification(envelope, resource)
        if event_type.startswith("REFUND."):
            # Refund resources carry no appid; when one is there it must still be ours.
            if "appid" in resource and resource["appid"] != self._appid:
                raise NotificationRejected("wrong_app", "appid is not ours")
            return self._refund_notification(envelope, resource)
        raise NotificationRejected("unsupported_event", event_type)

    def _decrypt(self, body: str) -> tuple[dict, dict]:
        try:
            envelope = json.loads(body)
        except ValueError:
            raise NotificationRejected("malformed", "body is not JSON") from None
        if not isinstance(envelope, dict):
            raise NotificationRejected("malformed", "body is not a JSON object")
        resource = envelope.get("resource")
        if envelope.get("resource_type") != "encrypt-resource" or not isinstance(resource, dict):
            raise NotificationRejected("malformed", "no encrypted resource")
        if resource.get("algorithm") != "AEAD_AES_256_GCM":
            raise NotificationRejected("undecryptable", f"algorithm {resource.get('algorithm')!r}")
        try:
            plaintext = aes_decrypt(nonce=resource["nonce"], ciphertext=resource["ciphertext"],
                                    associated_data=resource.get("associated_data") or "",
                                    apiv3_key=self._apiv3_key)
            decrypted = json.loads(plaintext) if plaintext is not None else None
        except (KeyError, TypeError, ValueError, AttributeError):
            decrypted = None
        if not isinstance(decrypted, dict):
            raise NotificationRejected("undecryptable", "resource does not decrypt with our APIv3 key")
        return envelope, decrypted

    @staticmethod
    def _raw(envelope: dict, resource: dict) -> dict:
        # The payer's openid stays out: raw may be stored or logged.
        return {"id": envelope.get("id"), "event_type": envelope.get("event_type"),
                "create_time": envelope.get("create_time"),
                "resource": {k: v for k, v in resource.items() if k != "payer"}}

    def _payment_notification(self, envelope: dict, resource: dict) -> Notification:
        trade_state = resource.get("trade_state")
        amount_fen = fen_of(resource.get("amount"), "total")
        order_no = resource.get("out_trade_no")
        if trade_state not in TRADE_STATES or amount_fen is None or not isinstance(order_no, str):
            raise NotificationRejected("malformed", "payment resource lacks state, amount or order")
        return Notification(kind="payment", order_no=order_no, state=TRADE_STATES[trade_state],
                            amount_fen=amount_fen,
                            provider_trade_no=resource.get("transaction_id") or None,
                            paid_at=moment(resource.get("success_time")),
                            notification_id=envelope.get("id"), provider_state=trade_state,
                            raw=self._raw(envelope, resource))

    def _refund_notification(self, envelope: dict, resource: dict) -> Notification:
        refund_status = resource.get("refund_status")
        amount_fen = fen_of(resource.get("amount"), "refund")
        order_no = resource.get("out_trade_no")
        refund_no = resource.get("out_refund_no")
        if (refund_status not in REFUND_STATES or amount_fen is None
                or not (isinstance(order_no, str) and isinstance(refund_no, str))):
            raise NotificationRejected("malformed", "refund resource lacks state, amount or numbers")
        return Notification(kind="refund", order_no=order_no, state=REFUND_STATES[refund_status],
                            amount_fen=amount_fen,
                            provider_trade_no=resource.get("transaction_id") or None,
                            refund_no=refund_no, provider_refund_no=resource.get("refund_id") or None,
                            notification_id=envelope.get("id"), provider_state=refund_status,
                            raw=self._raw(envelope, resource))
