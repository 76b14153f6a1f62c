"""The sandbox's key material and the WeChat Pay v3 cryptography, seen from WeChat's side.

Keys live in ``<key_dir>/wechatpay/`` and are made once, as if the merchant had registered at
WeChat Pay: the platform key pair (WeChat's, which signs answers and notifications), the
merchant's API key pair (whose public half WeChat holds to check requests) and the 32-character
APIv3 key both sides share to encrypt notification resources. Formats follow the SDK's
``wechatpayv3/utils.py``: ``build_authorization`` / ``rsa_sign`` (requests), ``rsa_verify``
(answers and notifications) and ``aes_decrypt`` (AEAD_AES_256_GCM, UTF-8 nonce and data).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import string
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from payments.sandbox.common import ensure_rsa_key, public_pem
from payments.sandbox.wechatpay.ledger import SHANGHAI

# WeChat's own documentation uses these example merchant and app ids.
MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"


def _write_once(path: Path, content: bytes) -> bytes:
    """Write ``content`` unless the file exists; two processes starting at once agree on one."""
    if path.exists():
        return path.read_bytes()
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
    return path.read_bytes()


@dataclass(frozen=True)
class SandboxKeys:
    """What WeChat Pay and the merchant know of each other, with the files the merchant keeps."""

    directory: Path
    platform_private_pem: bytes
    platform_public_key_id: str
    merchant_public_pem: bytes
    merchant_serial_no: str
    apiv3_key: str
    mchid: str = MCHID
    appid: str = APPID

    @property
    def merchant_private_key_file(self) -> Path:
        return self.directory / "merchant_private_key.pem"

    @property
    def platform_public_key_file(self) -> Path:
        return self.directory / "platform_public_key.pem"

    @property
    def apiv3_key_file(self) -> Path:
        return self.directory / "apiv3_key.txt"

    @classmethod
    def ensure(cls, key_dir: Path) -> "SandboxKeys":
        """Load the keys from ``key_dir``, generating what is missing (idempotent)."""
        directory = Path(key_dir) / "wechatpay"
        directory.mkdir(parents=True, exist_ok=True)
        platform_private = ensure_rsa_key(directory / "platform_private_key.pem")
        merchant_private = ensure_rsa_key(directory / "merchant_private_key.pem")
        merchant_public = public_pem(merchant_private)
        platform_public = _write_once(directory / "platform_public_key.pem", public_pem(platform_private))
        alphabet = string.ascii_letters + string.digits
        apiv3_key = _write_once(directory / "apiv3_key.txt",
                                "".join(secrets.choice(alphabet) for _ in range(32)).encode())
        return cls(directory=directory,
                   platform_private_pem=platform_private,
                   # Real ids look like PUB_KEY_ID_0114232134912410000000000000: 28 digits.
                   platform_public_key_id="PUB_KEY_ID_01" + str(int(hashlib.sha256(platform_public)
                                                                    .hexdigest(), 16))[:26],
                   merchant_public_pem=merchant_public,
                   # A certificate serial is 40 hex digits; one derived from the key stays stable.
                   merchant_serial_no=hashlib.sha1(merchant_public).hexdigest().upper(),
                   apiv3_key=apiv3_key.decode().strip())


def sign(private_pem: bytes, message: str) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64, as WeChat signs answers and notifications."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    return base64.b64encode(key.sign(message.encode("utf-8"), padding.PKCS1v15(),
                                     hashes.SHA256())).decode()


def verify(public_key_pem: bytes, message: str, signature: str) -> bool:
    key = serialization.load_pem_public_key(public_key_pem)
    try:
        key.verify(base64.b64decode(signature), message.encode("utf-8"), padding.PKCS1v15(),
                   hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def signed_headers(keys: SandboxKeys, body: str, *, timestamp: int | None = None,
                   signing_pem: bytes | None = None) -> dict[str, str]:
    """The Wechatpay-* headers over ``TIMESTAMP\\nNONCE\\nBODY\\n``; fresh time and nonce each call.

    ``timestamp`` and ``signing_pem`` let tests forge stale or foreign-signed messages.
    """
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = secrets.token_hex(16).upper()
    signature = sign(signing_pem or keys.platform_private_pem, f"{stamp}\n{nonce}\n{body}\n")
    return {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": signature, "Wechatpay-Serial": keys.platform_public_key_id,
            "Wechatpay-Signature-Type": SIGNATURE_TYPE}


_AUTH_FIELD = re.compile(r'(\w+)="([^"]*)"')


def check_authorization(keys: SandboxKeys, header: str, method: str, uri: str, body: str,
                        max_skew_seconds: int = 300) -> str | None:
    """Why a merchant request's Authorization fails (in WeChat's words), or None when it holds.

    Signed string: ``METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n`` (SDK: build_authorization).
    """
    scheme, _, rest = header.partition(" ")
    if scheme != SIGNATURE_TYPE:
        return "Authorization 缺失或认证类型不支持"
    fields = dict(_AUTH_FIELD.findall(rest))
    if fields.get("mchid") != keys.mchid:
        return "商户号不存在或与签名不符"
    if fields.get("serial_no") != keys.merchant_serial_no:
        return "商户证书序列号有误"
    try:
        skew = abs(time.time() - int(fields.get("timestamp", "")))
    except ValueError:
        return "时间戳格式有误"
    if skew > max_skew_seconds:
        return "请求时间戳已过期"
    message = f"{method}\n{uri}\n{fields['timestamp']}\n{fields.get('nonce_str', '')}\n{body}\n"
    if not verify(keys.merchant_public_pem, message, fields.get("signature", "")):
        return "签名错误"
    return None


def encrypt_resource(apiv3_key: str, plaintext: str, associated_data: str) -> dict[str, str]:
    """AEAD_AES_256_GCM with the APIv3 key; the 12-character nonce is used as UTF-8 bytes."""
    nonce = secrets.token_hex(6)
    ciphertext = AESGCM(apiv3_key.encode("utf-8")).encrypt(
        nonce.encode("utf-8"), plaintext.encode("utf-8"), associated_data.encode("utf-8"))
    return {"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.b64encode(ciphertext).decode(),
            "associated_data": associated_data, "nonce": nonce}


def notification_body(keys: SandboxKeys, event_type: str, summary: str, original_type: str,
                      resource: dict, *, notification_id: str | None = None,
                      apiv3_key: str | None = None) -> str:
    """A notification's JSON text: envelope in the clear, the resource encrypted.

    ``apiv3_key`` lets tests encrypt with a key that is not the merchant's.
    """
    plaintext = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
    envelope = {
        "id": notification_id or str(uuid.uuid4()),
        "create_time": datetime.now(SHANGHAI).isoformat(timespec="seconds"),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": summary,
        "resource": {"original_type": original_type,
                     **encrypt_resource(apiv3_key or keys.apiv3_key, plaintext, original_type)},
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
