"""argon2id for payment passwords (argon2-cffi's defaults: RFC 9106's second recommended profile)."""
from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    def __init__(self, **parameters):
        self._hasher = _Argon2(**parameters)  # tests may pass cheaper time/memory costs

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def verify(self, hashed: str, secret: str) -> bool:
        try:
            return self._hasher.verify(hashed, secret)
        except (VerificationError, InvalidHashError):
            return False
