"""Short-lived records (SMS codes, sessions, sign-in challenges): Redis, or memory for the
zero-setup run (one process). Values are JSON; every key expires by itself."""
from __future__ import annotations

import base64
import json
import threading
import time


class RedisStore:
    def __init__(self, redis_client):
        self.redis = redis_client

    def put(self, key: str, value: dict, ttl_seconds: int) -> None:
        self.redis.set(key, json.dumps(value), ex=max(1, int(ttl_seconds)))

    def get(self, key: str) -> dict | None:
        raw = self.redis.get(key)
        return json.loads(raw) if raw is not None else None

    def take(self, key: str) -> dict | None:
        raw = self.redis.getdel(key)  # atomic: of two callers only one gets it
        return json.loads(raw) if raw is not None else None

    def delete(self, key: str) -> None:
        self.redis.delete(key)

    def incr(self, key: str, ttl_seconds: int) -> int:
        with self.redis.pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, max(1, int(ttl_seconds)), nx=True)
            value, _ = pipe.execute()
        return int(value)

    def add_member(self, key: str, member: str, ttl_seconds: int) -> None:
        with self.redis.pipeline() as pipe:
            pipe.sadd(key, member)
            pipe.expire(key, max(1, int(ttl_seconds)))
            pipe.execute()

    def members(self, key: str) -> set[str]:
        return {m.decode() if isinstance(m, bytes) else m for m in self.redis.smembers(key)}


class MemoryStore:
    def __init__(self):
        self._data: dict[str, tuple[object, float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str):
        entry = self._data.get(key)
        if entry is None or entry[1] < time.monotonic():
            self._data.pop(key, None)
            return None
        return entry[0]

    def put(self, key: str, value: dict, ttl_seconds: int) -> None:
        with self._lock:
            self._data[key] = (json.loads(json.dumps(value)), time.monotonic() + ttl_seconds)

    def get(self, key: str) -> dict | None:
        with self._lock:
            value = self._live(key)
            return json.loads(json.dumps(value)) if value is not None else None

    def take(self, key: str) -> dict | None:
        with self._lock:
            value = self._live(key)
            self._data.pop(key, None)
            return value

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def incr(self, key: str, ttl_seconds: int) -> int:
        with self._lock:
            current = self._live(key) or 0
            expires = self._data[key][1] if key in self._data else time.monotonic() + ttl_seconds
            self._data[key] = (current + 1, expires)
            return current + 1

    def add_member(self, key: str, member: str, ttl_seconds: int) -> None:
        with self._lock:
            members = set(self._live(key) or ())
            self._data[key] = (members | {member}, time.monotonic() + ttl_seconds)

    def members(self, key: str) -> set[str]:
        with self._lock:
            return set(self._live(key) or ())


class CipherSealer:
    """AES-GCM (the field cipher of the person table) over a record's JSON, bound to its purpose."""

    def __init__(self, cipher, context: str = "account.registration"):
        self.cipher, self.context = cipher, context

    def seal(self, data: dict) -> str:
        return base64.b64encode(self.cipher.encrypt(json.dumps(data), self.context)).decode()

    def unseal(self, sealed: str) -> dict:
        return json.loads(self.cipher.decrypt(base64.b64decode(sealed), self.context))
