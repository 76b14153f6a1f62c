"""The UnionPay sandbox's certificates, generated once into ``key_dir``.

UnionPay signs with a certificate issued by its intermediate CA under its root, owned by
中国银联股份有限公司 (CN ``041@Z...@中国银联股份有限公司@...``); the merchant signs with a key whose
certificate serial is its ``certId``. The sandbox makes all of them, as if the merchant had
downloaded UnionPay's CA certificates and registered its own certificate.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from payments.sandbox.common import ensure_rsa_key, load_private_key

MER_ID = "898000000000001"
UNIONPAY_SIGN_CN = "041@Z12345678@中国银联股份有限公司@00000001"

ROOT_CERT, MIDDLE_CERT = "unionpay_root_ca.cert.pem", "unionpay_middle_ca.cert.pem"
MERCHANT_KEY, MERCHANT_CERT = "unionpay_merchant_sign.key.pem", "unionpay_merchant_sign.cert.pem"


@dataclass(frozen=True)
class Pki:
    """The keys and certificates both sides of the sandbox use."""

    root_cert: x509.Certificate
    middle_cert: x509.Certificate
    middle_key: rsa.RSAPrivateKey  # kept so tests can issue certificates UnionPay never would
    sign_key: rsa.RSAPrivateKey
    sign_cert: x509.Certificate
    merchant_cert: x509.Certificate

    @property
    def sign_cert_pem(self) -> str:
        return self.sign_cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def subject_name(common_name: str, organization: str = "UnionPay Sandbox") -> x509.Name:
    """C=CN, O=organization, CN=common_name."""
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def issue(subject: x509.Name, public_key, issuer: x509.Certificate | None, issuer_key: rsa.RSAPrivateKey, *,
          ca: bool, not_before: datetime | None = None, not_after: datetime | None = None) -> x509.Certificate:
    """A certificate for ``public_key`` signed by ``issuer_key`` (self-signed when ``issuer`` is None)."""
    now = datetime.now(timezone.utc)
    not_before = not_before or now - timedelta(days=1)
    not_after = not_after or now + timedelta(days=3650 if ca else 1825)
    usage = dict(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                 data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                 encipher_only=False, decipher_only=False)
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer.subject if issuer else subject)
               .public_key(public_key)
               # certIds look like UnionPay's: a short decimal serial
               .serial_number(10 ** 10 + secrets.randbelow(9 * 10 ** 10))
               .not_valid_before(not_before)
               .not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(**usage), critical=True))
    return builder.sign(issuer_key, hashes.SHA256())


def issue_signing_cert(ca_cert: x509.Certificate, ca_key: rsa.RSAPrivateKey, common_name: str,
                       key: rsa.RSAPrivateKey, *, not_before: datetime | None = None,
                       not_after: datetime | None = None) -> x509.Certificate:
    """A signing certificate issued by an intermediate CA (tests use it for odd certificates)."""
    return issue(subject_name(common_name, "UnionPay Sandbox OCA"), key.public_key(), ca_cert, ca_key,
                 ca=False, not_before=not_before, not_after=not_after)


def _load_key(path: Path) -> rsa.RSAPrivateKey:
    return load_private_key(ensure_rsa_key(path))


def _ensure_cert(path: Path, make) -> x509.Certificate:
    """The certificate at ``path``, made on first use; the first process to write it wins."""
    if not path.exists():
        pem = make().public_bytes(serialization.Encoding.PEM)
        tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
        tmp.write_bytes(pem)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return x509.load_pem_x509_certificate(path.read_bytes())


def ensure_pki(key_dir: Path) -> Pki:
    """Load the sandbox's keys and certificates from ``key_dir``, generating what is missing."""
    key_dir = Path(key_dir)
    key_dir.mkdir(parents=True, exist_ok=True)
    root_key = _load_key(key_dir / "unionpay_root_ca.key.pem")
    root_name = subject_name("ACP Sandbox Root CA")
    root = _ensure_cert(key_dir / ROOT_CERT,
                        lambda: issue(root_name, root_key.public_key(), None, root_key, ca=True))
    middle_key = _load_key(key_dir / "unionpay_middle_ca.key.pem")
    middle = _ensure_cert(key_dir / MIDDLE_CERT,
                          lambda: issue(subject_name("ACP Sandbox OCA"), middle_key.public_key(), root, root_key, ca=True))
    sign_key = _load_key(key_dir / "unionpay_sign.key.pem")
    sign = _ensure_cert(key_dir / "unionpay_sign.cert.pem",
                        lambda: issue_signing_cert(middle, middle_key, UNIONPAY_SIGN_CN, sign_key))
    merchant_key = _load_key(key_dir / MERCHANT_KEY)
    merchant = _ensure_cert(key_dir / MERCHANT_CERT,
                            lambda: issue_signing_cert(middle, middle_key, f"041@Z{MER_ID}@社保费缴费沙箱商户@00000001",
                                                       merchant_key))
    return Pki(root, middle, middle_key, sign_key, sign, merchant)
