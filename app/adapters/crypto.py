"""Personal data at rest: AES-256-GCM for the value, a keyed HMAC blind index to find it.

The ciphertext starts with a one-byte key version so keys can be rotated later without a
flag day; the nonce is random per value (96 bits, as GCM wants).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = b"\x01"


class FieldCipher:
    def __init__(self, encryption_key: bytes, index_key: bytes):
        if len(encryption_key) != 32 or len(index_key) < 32:
            raise ValueError("need a 32-byte encryption key and an index key of at least 32 bytes")
        self._aead = AESGCM(encryption_key)
        self._index_key = index_key

    @classmethod
    def from_settings(cls, encryption_key_b64: str, index_key_b64: str) -> "FieldCipher":
        return cls(base64.b64decode(encryption_key_b64), base64.b64decode(index_key_b64))

    def encrypt(self, value: str, context: str) -> bytes:
        nonce = os.urandom(12)
        return VERSION + nonce + self._aead.encrypt(nonce, value.encode(), context.encode())

    def decrypt(self, blob: bytes, context: str) -> str:
        blob = bytes(blob)
        if blob[:1] != VERSION:
            raise ValueError("unknown key version")
        return self._aead.decrypt(blob[1:13], blob[13:], context.encode()).decode()

    def blind_index(self, *parts: str) -> str:
        return hmac.new(self._index_key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def new_key_b64() -> str:
    return base64.b64encode(os.urandom(32)).decode()
