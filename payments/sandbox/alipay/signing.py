"""The sandbox's keys and Alipay's RSA2 signing rules, from Alipay's side of the wire.

Written with ``cryptography`` rather than the SDK, so the SDK on our side is checked against
an independent reading of the rules:
- requests: sorted ``k=v`` joined by ``&`` of every non-empty parameter but ``sign`` (so
  ``sign_type`` is included), SHA256withRSA, base64; checked with the merchant's public key;
- notifications and return parameters: every parameter but ``sign`` and ``sign_type``, empty
  ones included (as the SDK's ``verify`` reads them), signed by Alipay;
- synchronous answers: the signature covers the raw JSON text of ``<method>_response``
  and sits beside it as ``sign``.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from payments.sandbox.common import ensure_rsa_key, load_private_key, public_pem

APP_ID = "2021000100000001"  # the sandbox merchant's application
SELLER_ID = "2088100000000001"  # the sandbox merchant's Alipay user id (PID)


@dataclass(frozen=True)
class SandboxKeys:
    """Alipay's key pair and the public key the merchant registered, with their files."""

    alipay_private: rsa.RSAPrivateKey
    merchant_public: rsa.RSAPublicKey
    alipay_public_path: Path
    merchant_private_path: Path


def ensure_keys(key_dir: Path) -> SandboxKeys:
    """Generate (once) Alipay's and the merchant's keys in ``key_dir`` and load them."""
    key_dir = Path(key_dir)
    alipay_pem = ensure_rsa_key(key_dir / "alipay_platform_private.pem")
    merchant_pem = ensure_rsa_key(key_dir / "alipay_merchant_private.pem")
    alipay_public_path = _write_once(key_dir / "alipay_platform_public.pem", public_pem(alipay_pem))
    _write_once(key_dir / "alipay_merchant_public.pem", public_pem(merchant_pem))
    return SandboxKeys(
        alipay_private=load_private_key(alipay_pem),
        merchant_public=load_private_key(merchant_pem).public_key(),
        alipay_public_path=alipay_public_path,
        merchant_private_path=key_dir / "alipay_merchant_private.pem",
    )


def signed_text(params: Mapping[str, str], without: Iterable[str], skip_empty: bool) -> str:
    """What Alipay signs: sorted ``k=v&...`` of the parameters not left out."""
    left_out = set(without)
    return "&".join(f"{key}={value}" for key, value in sorted(params.items())
                    if key not in left_out and not (skip_empty and value in (None, "")))


def rsa2_sign(private_key: rsa.RSAPrivateKey, text: str) -> str:
    signature = private_key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def rsa2_verify(public_key: rsa.RSAPublicKey, text: str, sign: str) -> bool:
    try:
        public_key.verify(base64.b64decode(sign, validate=True), text.encode("utf-8"),
                          padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def sign_params(private_key: rsa.RSAPrivateKey, params: Mapping[str, str]) -> dict[str, str]:
    """Notification or return parameters with ``sign_type`` and ``sign`` added."""
    signed = {**params, "sign_type": "RSA2"}
    text = signed_text(signed, without=("sign", "sign_type"), skip_empty=False)
    signed["sign"] = rsa2_sign(private_key, text)
    return signed


def answer_text(method: str, body: Mapping[str, object], private_key: rsa.RSAPrivateKey | None) -> str:
    """A synchronous answer: ``{"<method>_response":{...},"sign":"..."}``, unsigned without a key."""
    inner = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    key = method.replace(".", "_") + "_response"
    if private_key is None:
        return f'{{"{key}":{inner}}}'
    return f'{{"{key}":{inner},"sign":"{rsa2_sign(private_key, inner)}"}}'


def _write_once(path: Path, content: bytes) -> Path:
    if not path.exists() or path.read_bytes() != content:
        tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, path)  # derived from the private key: concurrent writers agree
    return path
