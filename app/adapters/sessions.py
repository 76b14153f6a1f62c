"""Identification sessions: Redis with a TTL in production and tests, in-process for zero setup."""
from __future__ import annotations

import secrets
import threading
import time

PREFIX = "idsession:"


class RedisSessions:
    def __init__(self, redis_client, prefix: str = PREFIX):
        self.redis, self.prefix = redis_client, prefix

    def create(self, person_id: int, ttl_seconds: int) -> str:
        token = secrets.token_urlsafe(24)
        self.redis.set(self.prefix + token, str(person_id), ex=ttl_seconds)
        return token

    def get(self, token: str) -> int | None:
        value = self.redis.get(self.prefix + token)
        return int(value) if value is not None else None

    def end(self, token: str) -> None:
        self.redis.delete(self.prefix + token)


class MemorySessions:
    """For the zero-setup run command (one process); entries expire like Redis keys do."""

    def __init__(self):
        self._data: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def create(self, person_id: int, ttl_seconds: int) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._data[token] = (person_id, time.monotonic() + ttl_seconds)
        return token

    def get(self, token: str) -> int | None:
        with self._lock:
            entry = self._data.get(token)
            if entry is None or entry[1] < time.monotonic():
                self._data.pop(token, None)
                return None
            return entry[0]

    def end(self, token: str) -> None:
        with self._lock:
            self._data.pop(token, None)
