"""ACP 5.1.0 signing and certificate checks, against the rules written out by hand."""
from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from payments.sandbox.unionpay.pki import UNIONPAY_SIGN_CN, issue, issue_signing_cert, subject_name
from payments.unionpay import acp
from tests.timeline import wall_now


def unionpay_signed(fields: dict, key, cert) -> dict:
    pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return acp.sign({**fields, "signPubKeyCert": pem}, key, str(cert.serial_number))


MESSAGE = {"version": "5.1.0", "signMethod": "01", "encoding": "UTF-8", "merId": "898000000000001",
           "orderId": "20250101120000000001", "txnAmt": "39800", "respCode": "00", "respMsg": "成功[0000000]"}


def test_signature_is_rsa_sha256_over_the_hex_digest_of_the_sorted_fields(stranger_key):
    signed = acp.sign({"b": "2", "a": "1", "empty": "", "none": None, "c": "中"}, stranger_key, "68759663125")

    assert "empty" not in signed and "none" not in signed
    assert signed["certId"] == "68759663125"
    hex_digest = hashlib.sha256("a=1&b=2&c=中&certId=68759663125".encode("utf-8")).hexdigest()
    stranger_key.public_key().verify(base64.b64decode(signed["signature"]), hex_digest.encode("ascii"),
                                  padding.PKCS1v15(), hashes.SHA256())


def test_answer_values_are_read_raw_with_braced_groups_kept_whole():
    answer = acp.parse_answer("respCode=00&reserved={a=1&b=2}&qrCode=https://qr.95516.com/x?y=1&empty=")

    assert answer == {"respCode": "00", "reserved": "{a=1&b=2}", "qrCode": "https://qr.95516.com/x?y=1", "empty": ""}


def test_message_signed_by_unionpay_certificate_is_trusted(pki):
    verifier = acp.Verifier(pki.root_cert, pki.middle_cert)

    verifier.verify(unionpay_signed(MESSAGE, pki.sign_key, pki.sign_cert))


def test_changed_field_breaks_the_signature(pki):
    message = unionpay_signed(MESSAGE, pki.sign_key, pki.sign_cert)
    message["txnAmt"] = "1"

    with pytest.raises(acp.UntrustedMessage, match="bad_signature"):
        acp.Verifier(pki.root_cert, pki.middle_cert).verify(message)


def test_certificate_outside_unionpay_chain_is_not_trusted(pki, stranger_key):
    ca = issue(subject_name("Elsewhere CA"), stranger_key.public_key(), None, stranger_key, ca=True)
    cert = issue_signing_cert(ca, stranger_key, UNIONPAY_SIGN_CN, stranger_key)

    with pytest.raises(acp.UntrustedMessage, match="untrusted_certificate"):
        acp.Verifier(pki.root_cert, pki.middle_cert).verify(unionpay_signed(MESSAGE, stranger_key, cert))


def test_expired_certificate_is_not_trusted(pki, stranger_key):
    now = wall_now()
    cert = issue_signing_cert(pki.middle_cert, pki.middle_key, UNIONPAY_SIGN_CN, stranger_key,
                              not_before=now - timedelta(days=400), not_after=now - timedelta(days=1))

    with pytest.raises(acp.UntrustedMessage, match="certificate_not_valid_now"):
        acp.Verifier(pki.root_cert, pki.middle_cert).verify(unionpay_signed(MESSAGE, stranger_key, cert))


def test_certificate_of_another_owner_is_not_trusted_unless_the_cn_check_is_off(pki, stranger_key):
    cert = issue_signing_cert(pki.middle_cert, pki.middle_key, "041@Z12345678@某某科技有限公司@00000001", stranger_key)
    message = unionpay_signed(MESSAGE, stranger_key, cert)

    with pytest.raises(acp.UntrustedMessage, match="not_unionpay_certificate"):
        acp.Verifier(pki.root_cert, pki.middle_cert).verify(message)
    acp.Verifier(pki.root_cert, pki.middle_cert, check_cn=False).verify(message)


def test_intermediate_not_issued_by_the_root_is_refused_at_build(pki):
    with pytest.raises(ValueError):
        acp.Verifier(pki.middle_cert, pki.root_cert)


def test_a_certificate_trusted_once_is_still_refused_once_it_has_expired(pki, stranger_key):
    now = wall_now()
    moment = {"now": now}
    cert = issue_signing_cert(pki.middle_cert, pki.middle_key, UNIONPAY_SIGN_CN, stranger_key,
                              not_before=now - timedelta(days=1), not_after=now + timedelta(days=1))
    verifier = acp.Verifier(pki.root_cert, pki.middle_cert, clock=lambda: moment["now"])
    message = unionpay_signed(MESSAGE, stranger_key, cert)
    verifier.verify(message)
    verifier.verify(message)  # the kept certificate

    moment["now"] = now + timedelta(days=2)
    with pytest.raises(acp.UntrustedMessage, match="certificate_not_valid_now"):
        verifier.verify(message)


def test_a_kept_certificate_does_not_vouch_for_a_message_it_did_not_sign(pki):
    verifier = acp.Verifier(pki.root_cert, pki.middle_cert)
    verifier.verify(unionpay_signed(MESSAGE, pki.sign_key, pki.sign_cert))
    forged = unionpay_signed(MESSAGE, pki.sign_key, pki.sign_cert)
    forged["txnAmt"] = "1"

    with pytest.raises(acp.UntrustedMessage, match="bad_signature"):
        verifier.verify(forged)
