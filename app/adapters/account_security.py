"""The account security parts, each a maintained library: argon2id (argon2-cffi), zxcvbn, an
ALTCHA proof-of-work (altcha), and rate limits over ``limits`` (what flask-limiter runs on).

argon2id parameters: time_cost 2, memory 19 MiB, parallelism 1 (the OWASP minimum for
argon2id). Measured here (2 shared cores, under load from other work): about 70 ms per
verification; 64 MiB × 3 took 360 ms, too slow for sign-in at the rates the bench targets.
The bench (``bench/logins.py``) prints the hash rate of the machine beside the logins/s.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import threading

import altcha.v1 as altcha
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

ARGON2_PARAMETERS = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}


class Argon2Hasher:
    def __init__(self, time_cost: int, memory_cost: int, parallelism: int):
        self._ph = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
        # made on the first sign-in for an unknown account, not at start: one hash takes memory_cost
        # (19 MiB) for its moment, which was most of the peak of a process that never signs anyone in
        self._dummy: str | None = None
        self._dummy_lock = threading.Lock()

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._ph.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def verify_dummy(self, password: str) -> None:
        """Spend what a real verification spends, so an unknown account answers no faster than a known one."""
        if self._dummy is None:
            with self._dummy_lock:
                if self._dummy is None:
                    self._dummy = self._ph.hash("no account has this password")
        self.verify(self._dummy, password)


class ZxcvbnStrength:
    def score(self, password: str, user_inputs: list[str]) -> int:
        # zxcvbn's cost grows with length; the port already refused more than 64 characters. Imported
        # on first use: its dictionaries take 14 MB, which a process that never sees a password (the
        # bulk jobs, the workers) need not carry.
        import zxcvbn

        return int(zxcvbn.zxcvbn(password, user_inputs=user_inputs)["score"])


class AltchaHumanCheck:
    """ALTCHA v1 challenges (SHA-256, signed by HMAC); each solution is accepted once (kept in ``store``)."""

    def __init__(self, hmac_key: str, store, max_number: int = 100_000, ttl_seconds: int = 600):
        self.hmac_key, self.store, self.max_number, self.ttl = hmac_key, store, max_number, ttl_seconds

    def challenge(self) -> dict:
        # expiry in wall time: ALTCHA checks it against time.time(), it is transport freshness, not business time
        expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=self.ttl)
        return altcha.create_challenge(hmac_key=self.hmac_key, max_number=self.max_number, expires=expires).to_dict()

    def verify(self, payload: str) -> bool:
        try:
            ok, _ = altcha.verify_solution(payload, self.hmac_key, check_expires=True)
        except Exception:  # a malformed payload is just a failed check
            return False
        if not ok:
            return False
        key = "acct:altcha-used:" + hashlib.sha256(payload.encode()).hexdigest()
        return self.store.incr(key, self.ttl) == 1


class LimitsRateLimiter:
    """Moving-window limits in the storage flask-limiter uses (Redis, or memory without it)."""

    def __init__(self, storage_uri: str):
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def exceeded(self, limit: str, key: str) -> bool:
        return any(not self._limiter.test(item, "acct", key) for item in parse_many(limit))

    def hit(self, limit: str, key: str) -> None:
        for item in parse_many(limit):
            self._limiter.hit(item, "acct", key)
