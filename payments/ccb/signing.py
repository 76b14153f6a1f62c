"""Signing the CCB messages: RSA PKCS#1 v1.5 SHA-256 over the sorted ``k=v&...`` of non-empty fields.

Field names follow CCB's 网上银行 B2C payment interface (MERCHANTID, POSID, BRANCHID, ORDERID,
PAYMENT in yuan, CURCODE 01, TXCODE 520100 for a payment, ACC_TYPE, SUCCESS Y/N in the
notification). CCB's own request MAC (MD5 over the fields and part of the merchant's public
key) is not reproduced: both directions here carry an RSA ``SIGN``, as CCB's notifications do.
"""
from __future__ import annotations

import base64
from decimal import Decimal, InvalidOperation
from typing import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def signing_string(fields: Mapping[str, object]) -> bytes:
    return "&".join(f"{k}={fields[k]}" for k in sorted(fields)
                    if k != "SIGN" and fields[k] not in (None, "")).encode("utf-8")


def sign(fields: Mapping[str, object], private_pem: bytes) -> dict:
    key = serialization.load_pem_private_key(private_pem, password=None)
    signature = key.sign(signing_string(fields), padding.PKCS1v15(), hashes.SHA256())
    return {**{k: v for k, v in fields.items() if v not in (None, "")}, "SIGN": base64.b64encode(signature).decode()}


def verify(fields: Mapping[str, object], public_pem: bytes) -> bool:
    given = str(fields.get("SIGN") or "")
    try:
        signature = base64.b64decode(given, validate=True)
        serialization.load_pem_public_key(public_pem).verify(signature, signing_string(fields), padding.PKCS1v15(),
                                                             hashes.SHA256())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return bool(given)


def yuan(fen: int) -> str:
    """PAYMENT is a yuan amount with two decimals (the SDK edge is the only place yuan exists)."""
    return f"{fen // 100}.{fen % 100:02d}"


def fen(text: object) -> int:
    try:
        value = Decimal(str(text))
    except (InvalidOperation, ValueError):
        raise ValueError(f"not an amount: {text!r}") from None
    if value != value.quantize(Decimal("0.01")) or value < 0:
        raise ValueError(f"not an amount in yuan: {text!r}")
    return int(value * 100)
