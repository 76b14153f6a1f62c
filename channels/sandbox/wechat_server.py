"""WeChat's server, calling our message endpoint: URL verification and messages, plain or encrypted.

Written from the official-account documentation with ``hashlib`` and ``cryptography`` rather
than wechatpy, so our endpoint (which uses wechatpy) is checked against an independent reading:
- signature = SHA-1 hex of the sorted, concatenated [token, timestamp, nonce];
- encrypted mode (安全模式): the body is ``<xml><ToUserName/><Encrypt/></xml>``; Encrypt is
  base64 of AES-256-CBC (key = base64 of EncodingAESKey + "=", IV = the key's first 16 bytes)
  over 16 random bytes + the message length (4 bytes, big-endian) + the message + the AppID,
  padded PKCS#7 to 32-byte blocks; ``msg_signature`` = SHA-1 of the sorted
  [token, timestamp, nonce, Encrypt]; replies come back the same way.
"""
from __future__ import annotations

import base64
import hashlib
import os
import secrets
import struct
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import requests
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from channels.sandbox.wechat import WeChatAccount

BLOCK = 32


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def encrypt(account: WeChatAccount, text: str) -> str:
    key = base64.b64decode(account.encoding_aes_key + "=")
    body = text.encode("utf-8")
    plain = os.urandom(16) + struct.pack(">I", len(body)) + body + account.appid.encode("utf-8")
    pad = BLOCK - len(plain) % BLOCK
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")


def decrypt(account: WeChatAccount, encrypted: str) -> str:
    key = base64.b64decode(account.encoding_aes_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    plain = plain[: -plain[-1]]
    length = struct.unpack(">I", plain[16:20])[0]
    appid = plain[20 + length:].decode("utf-8")
    if appid != account.appid:
        raise ValueError(f"reply encrypted for another AppID: {appid!r}")
    return plain[20:20 + length].decode("utf-8")


@dataclass
class Sent:
    """What the server sent, and what came back (decrypted when it was encrypted)."""

    status: int
    body: bytes
    reply_xml: str | None


class WeChatServer:
    """Calls ``endpoint_url`` as WeChat's server does, for ``account``."""

    def __init__(self, account: WeChatAccount, endpoint_url: str, timeout: float = 10.0):
        self.account = account
        self.url = endpoint_url
        self.timeout = timeout

    def _signed_query(self, token: str | None = None, timestamp: str | None = None) -> dict:
        timestamp = timestamp or str(int(time.time()))
        nonce = str(secrets.randbelow(10**10))
        return {"timestamp": timestamp, "nonce": nonce,
                "signature": sha1_signature(token or self.account.token, timestamp, nonce)}

    def verify_url(self, echostr: str = "", token: str | None = None) -> requests.Response:
        """The check WeChat makes when the server URL is saved (服务器配置)."""
        query = {**self._signed_query(token), "echostr": echostr or str(secrets.randbelow(10**18))}
        return requests.get(self.url, params=query, timeout=self.timeout)

    def send(self, xml: str, encrypted: bool = False, token: str | None = None,
             timestamp: str | None = None, forge_msg_signature: bool = False) -> Sent:
        """Deliver one message; ``token`` other than the account's forges the signatures.

        ``forge_msg_signature`` keeps ``signature`` right but signs the encrypted body wrongly,
        as a replayed URL with a swapped body would be.
        """
        query = self._signed_query(token, timestamp)
        query["openid"] = _field(xml, "FromUserName") or ""
        body = xml
        if encrypted:
            encrypted_text = encrypt(self.account, xml)
            signed_text = encrypt(self.account, xml) if forge_msg_signature else encrypted_text
            query.update(encrypt_type="aes", msg_signature=sha1_signature(
                token or self.account.token, query["timestamp"], query["nonce"], signed_text))
            body = (f"<xml><ToUserName><![CDATA[{self.account.original_id}]]></ToUserName>"
                    f"<Encrypt><![CDATA[{encrypted_text}]]></Encrypt></xml>")
        answer = requests.post(self.url, params=query, data=body.encode("utf-8"),
                               headers={"Content-Type": "text/xml"}, timeout=self.timeout)
        reply = None
        if answer.status_code == 200 and answer.content.strip() not in (b"", b"success"):
            reply = answer.content.decode("utf-8")
            if encrypted:
                reply = self.open_reply(reply, query["nonce"])
        return Sent(answer.status_code, answer.content, reply)

    def open_reply(self, reply: str, nonce: str) -> str:
        """Check an encrypted reply's signature and decrypt it."""
        encrypted_text = _field(reply, "Encrypt")
        signature = sha1_signature(self.account.token, _field(reply, "TimeStamp"), _field(reply, "Nonce"),
                                   encrypted_text)
        if signature != _field(reply, "MsgSignature"):
            raise ValueError("the reply's MsgSignature does not match")
        return decrypt(self.account, encrypted_text)

    def text(self, openid: str, content: str) -> str:
        return self._message(openid, "text", f"<Content><![CDATA[{content}]]></Content>")

    def event(self, openid: str, event: str, key: str = "") -> str:
        extra = f"<Event><![CDATA[{event}]]></Event>" + (f"<EventKey><![CDATA[{key}]]></EventKey>" if key else "")
        return self._message(openid, "event", extra)

    def _message(self, openid: str, kind: str, inner: str) -> str:
        return (f"<xml><ToUserName><![CDATA[{self.account.original_id}]]></ToUserName>"
                f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
                f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>"
                f"{inner}<MsgId>{secrets.randbelow(10**18)}</MsgId></xml>")


def _field(xml: str, name: str) -> str:
    node = ET.fromstring(xml).find(name)
    return (node.text or "") if node is not None else ""


def reply_fields(reply_xml: str) -> dict[str, str]:
    """The top-level fields of a reply, and the articles' Url values under ``urls``."""
    root = ET.fromstring(reply_xml)
    fields = {child.tag: (child.text or "") for child in root if len(child) == 0}
    fields["urls"] = " ".join(node.text or "" for node in root.iter("Url"))
    return fields
