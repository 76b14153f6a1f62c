"""The official account's message endpoint (服务器地址): URL verification and messages.

Through wechatpy, in both modes the account can be set to:
- plain (明文模式): ``signature`` = SHA-1 of the sorted [Token, timestamp, nonce] (``check_signature``);
- encrypted (安全模式): the same ``signature``, and ``msg_signature`` over the encrypted body,
  which ``WeChatCrypto.decrypt_message`` checks before decrypting; replies go back encrypted.
A call whose signature does not match, or whose timestamp is more than five minutes away
from ours (a replay: WeChat itself sets no window), is answered 403 and nothing is parsed.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from channels.base import InboundMessage, MessageReply

log = logging.getLogger(__name__)
MAX_AGE_SECONDS = 300
MAX_BODY_BYTES = 64 * 1024
XML = "application/xml; charset=utf-8"


def _text(status: int, text: str) -> MessageReply:
    return MessageReply(status, text.encode("utf-8"))


class MessageDesk:
    """Checks and answers what WeChat's server sends to the account's server URL."""

    def __init__(self, *, token: str, app_id: str, encoding_aes_key: str | None,
                 reply_to: Callable[[object], object | None], now: Callable[[], float] = time.time):
        self._token = token
        self._crypto = WeChatCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None
        self._reply_to = reply_to
        self._now = now

    def handle(self, message: InboundMessage) -> MessageReply:
        query = message.query
        signature, timestamp, nonce = query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", "")
        if not (signature and timestamp and nonce):
            return _text(400, "missing signature")
        try:
            check_signature(self._token, signature, timestamp, nonce)
        except InvalidSignatureException:
            log.warning("wechat message refused: bad signature")
            return _text(403, "invalid signature")
        if message.method == "GET":  # URL verification: answer echostr as it came
            return _text(200, query.get("echostr", ""))
        if not timestamp.isdigit() or abs(self._now() - int(timestamp)) > MAX_AGE_SECONDS:
            log.warning("wechat message refused: stale timestamp %s", timestamp)
            return _text(403, "stale timestamp")
        if len(message.body) > MAX_BODY_BYTES:
            return _text(413, "too large")
        encrypted = query.get("encrypt_type") == "aes"
        if encrypted and self._crypto is None:
            return _text(400, "encrypted mode is not configured")
        try:
            xml = (self._crypto.decrypt_message(message.body, query.get("msg_signature", ""), timestamp, nonce)
                   if encrypted else message.body)
        except (InvalidSignatureException, InvalidAppIdException):
            log.warning("wechat message refused: bad msg_signature or AppID")
            return _text(403, "invalid signature")
        except Exception:  # undecodable ciphertext or XML: nothing from WeChat looks like that
            log.warning("wechat message refused: unreadable encrypted body")
            return _text(400, "unreadable message")
        try:
            parsed = parse_message(xml)
        except Exception:
            log.warning("wechat message refused: unreadable XML")
            return _text(400, "unreadable message")
        reply = self._reply_to(parsed) if parsed is not None else None
        if reply is None:
            return _text(200, "success")  # WeChat's "no reply"
        rendered = reply.render()
        if encrypted:
            rendered = self._crypto.encrypt_message(rendered, nonce, timestamp)
        return MessageReply(200, rendered.encode("utf-8"), XML)
