"""The sandbox gateways' private keys are parsed once per process, whoever asks for them."""
from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from payments.sandbox.common import ensure_rsa_key, load_private_key, public_pem


def test_the_same_key_file_gives_the_same_parsed_key_and_it_still_signs(tmp_path):
    pem = ensure_rsa_key(tmp_path / "k.pem", bits=1024)
    key = load_private_key(pem)
    assert load_private_key(ensure_rsa_key(tmp_path / "k.pem", bits=1024)) is key
    signature = key.sign(b"order", padding.PKCS1v15(), hashes.SHA256())
    key.public_key().verify(signature, b"order", padding.PKCS1v15(), hashes.SHA256())
    assert public_pem(pem) == key.public_key().public_bytes(serialization.Encoding.PEM,
                                                            serialization.PublicFormat.SubjectPublicKeyInfo)


def test_two_keys_are_never_confused(tmp_path):
    one, two = ensure_rsa_key(tmp_path / "a.pem", bits=1024), ensure_rsa_key(tmp_path / "b.pem", bits=1024)
    assert load_private_key(one).private_numbers() != load_private_key(two).private_numbers()
    assert public_pem(one) != public_pem(two)
