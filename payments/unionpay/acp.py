"""UnionPay ACP 5.1.0 messages: signing (signMethod 01), verifying, reading answers.

No maintained Python SDK exists for UnionPay's online gateway (全渠道, ACP), so this module
does with ``cryptography`` what UnionPay's own SDKs do (``SDKUtil.buildSignature``,
``SDKUtil.verify``, ``CertUtil.verifyAndGetVerifyKey``, ``SDKUtil.parseQString``):

- sign: drop empty values, set ``certId`` to the decimal serial of the merchant signing
  certificate, join the fields sorted by name as ``k=v&...`` (without ``signature``, values
  not URL-encoded), take the lowercase hex SHA-256 of that string and sign those hex
  characters with RSA PKCS#1 v1.5 SHA-256; base64.
- verify: the same string over every field received except ``signature`` (empty ones
  included, as the SDKs do), with the key of ``signPubKeyCert`` once that certificate is
  valid today, issued by UnionPay's intermediate CA (itself issued by the root), and owned
  by 中国银联股份有限公司 (third ``@`` field of the subject CN).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

VERSION = "5.1.0"
SIGN_METHOD_RSA = "01"
UNIONPAY_CN = "中国银联股份有限公司"


class UntrustedMessage(Exception):
    """A message from UnionPay failed verification; ``reason`` is a stable word for logs."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def signing_string(fields: Mapping[str, str]) -> str:
    """The sorted ``k=v&...`` string every signature covers (``signature`` left out)."""
    return "&".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "signature")


def _signed_bytes(fields: Mapping[str, str]) -> bytes:
    # ACP signs the hex characters of the digest, not the digest itself
    return hashlib.sha256(signing_string(fields).encode("utf-8")).hexdigest().encode("ascii")


def sign(fields: Mapping[str, str | None], key: rsa.RSAPrivateKey, cert_id: str) -> dict[str, str]:
    """A copy of ``fields`` without empty values, with ``certId`` and ``signature`` set."""
    signed = {k: str(v) for k, v in fields.items() if v is not None and str(v) != "" and k != "signature"}
    signed["certId"] = cert_id
    signature = key.sign(_signed_bytes(signed), padding.PKCS1v15(), hashes.SHA256())
    signed["signature"] = base64.b64encode(signature).decode("ascii")
    return signed


def verify_with_key(fields: Mapping[str, str], public_key) -> bool:
    """True when ``signature`` is the signature of ``fields`` by ``public_key``."""
    try:
        signature = base64.b64decode(fields.get("signature", ""), validate=True)
        public_key.verify(signature, _signed_bytes(fields), padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, TypeError, InvalidSignature, AttributeError):
        return False
    return True


def parse_answer(text: str) -> dict[str, str]:
    """Read a synchronous answer: ``k=v&...`` with raw values, ``{...}``/``[...]`` kept whole.

    UnionPay answers are not URL-encoded, and some values (``{...}`` groups) contain ``&`` and
    ``=``, so a plain query-string parser would cut them; this follows ``SDKUtil.parseQString``.
    """
    answer: dict[str, str] = {}
    key, buf = None, []
    closing = None
    for char in text:
        if closing:
            buf.append(char)
            if char == closing:
                closing = None
        elif char in "{[":
            closing = "}" if char == "{" else "]"
            buf.append(char)
        elif char == "=" and key is None:
            key, buf = "".join(buf), []
        elif char == "&":
            if key is None:
                raise ValueError("field without '='")
            answer[key] = "".join(buf)
            key, buf = None, []
        else:
            buf.append(char)
    if key is None:
        if buf:
            raise ValueError("field without '='")
    else:
        answer[key] = "".join(buf)
    return answer


def read_pem(value: str | bytes | Path) -> bytes:
    """PEM text given inline, or read from a file path."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str) and value.lstrip().startswith("-----BEGIN"):
        return value.encode("ascii")
    return Path(value).read_bytes()


def load_certificate(value: str | bytes | Path) -> x509.Certificate:
    """A certificate as PEM (inline or a file) or as a DER file, as UnionPay ships ``.cer`` files."""
    data = read_pem(value)
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def load_private_key(value: str | bytes | Path, password: bytes | None = None) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(read_pem(value), password=password)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the UnionPay signing key must be RSA")
    return key


def load_pfx(path: str | Path, password: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """The key and certificate of the ``.pfx`` file UnionPay issues to a merchant."""
    key, cert, _ = pkcs12.load_key_and_certificates(Path(path).read_bytes(), password.encode("utf-8"))
    if not isinstance(key, rsa.RSAPrivateKey) or cert is None:
        raise ValueError("the pfx file must hold an RSA key and its certificate")
    return key, cert


class Signer:
    """Signs our requests with the merchant signing key; ``cert_id`` names it to UnionPay."""

    def __init__(self, key: rsa.RSAPrivateKey, cert: x509.Certificate):
        self._key = key
        self.cert_id = str(cert.serial_number)

    def sign(self, fields: Mapping[str, str | None]) -> dict[str, str]:
        return sign(fields, self._key, self.cert_id)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


CHAINED_CERTS_KEPT = 4  # UnionPay signs with one certificate, two while it changes it


class Verifier:
    """Checks UnionPay's messages: the certificate they carry, then their signature."""

    def __init__(self, root: x509.Certificate, middle: x509.Certificate, check_cn: bool = True,
                 clock: Callable[[], datetime] = _utc_now):
        try:
            middle.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise ValueError("the UnionPay intermediate certificate is not issued by the root") from exc
        self._root = root
        self._middle = middle
        self._check_cn = check_cn
        self._clock = clock
        # signPubKeyCert (PEM) → (certificate, key) once it chained to our CAs: every message carries the
        # same few certificates, and parsing and checking the chain each time cost a second RSA verification
        self._chained: dict[str, tuple[x509.Certificate, rsa.RSAPublicKey]] = {}

    def verify(self, fields: Mapping[str, str]) -> None:
        """Raise UntrustedMessage unless ``fields`` are signed by UnionPay's current signing cert."""
        if fields.get("signMethod") != SIGN_METHOD_RSA or fields.get("version") != VERSION:
            raise UntrustedMessage("unsupported_sign_method",
                                   f"signMethod={fields.get('signMethod')} version={fields.get('version')}")
        if not fields.get("signature"):
            raise UntrustedMessage("missing_signature")
        public_key = self.trusted_key(fields.get("signPubKeyCert", ""))
        if not verify_with_key(fields, public_key):
            raise UntrustedMessage("bad_signature")

    def trusted_key(self, cert_pem: str):
        """The public key of ``cert_pem`` once it is valid today and chains to UnionPay's CAs.

        A certificate that chained once is kept (a few at most); whether it is valid today is
        checked on every message.
        """
        if not cert_pem:
            raise UntrustedMessage("missing_certificate")
        kept = self._chained.get(cert_pem)
        if kept is not None:
            self._valid_now(kept[0])
            return kept[1]
        try:
            cert = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise UntrustedMessage("unreadable_certificate", type(exc).__name__) from exc
        self._valid_now(cert)
        try:
            cert.verify_directly_issued_by(self._middle)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise UntrustedMessage("untrusted_certificate", f"serial {cert.serial_number}") from exc
        if self._check_cn:
            names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            parts = str(names[0].value).split("@") if names else []
            if len(parts) < 3 or parts[2] != UNIONPAY_CN:
                raise UntrustedMessage("not_unionpay_certificate", f"serial {cert.serial_number}")
        public_key = cert.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise UntrustedMessage("untrusted_certificate", "not an RSA key")
        if len(self._chained) >= CHAINED_CERTS_KEPT:  # only chained ones get here: a stranger cannot fill it
            self._chained.pop(next(iter(self._chained)), None)
        self._chained[cert_pem] = (cert, public_key)
        return public_key

    def _valid_now(self, cert: x509.Certificate) -> None:
        now = self._clock()
        for each in (cert, self._middle, self._root):
            if not each.not_valid_before_utc <= now <= each.not_valid_after_utc:
                raise UntrustedMessage("certificate_not_valid_now", f"serial {each.serial_number}")
