"""Channel sessions and pending entries: Redis in production and tests, in-process for zero setup.

A session is a Redis hash ``chsession:<token>`` with a TTL: ``data`` (the channel user, as
JSON), ``self`` (their own person, once identified) and ``person:<id>`` → relation for each
person identified in it. Fields are added only while the session lives (a small Lua script),
so a session that expired is never brought back without its TTL. A pending entry
(``chstate:<state>``) is read and deleted in one transaction: a state works once.
"""
from __future__ import annotations

import json
import secrets
import threading
import time

SESSION_PREFIX = "chsession:"
STATE_PREFIX = "chstate:"

# HSET only when the hash still exists: a late write must not resurrect an expired session
_SET_IF_LIVE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
"""


def _session_data(fields: dict[str, str]) -> dict | None:
    if "data" not in fields:
        return None
    data = json.loads(fields["data"])
    data["persons"] = {int(k.split(":", 1)[1]): v for k, v in fields.items() if k.startswith("person:")}
    data["self_person_id"] = int(fields["self"]) if fields.get("self") else None
    return data


class RedisChannelSessions:
    def __init__(self, redis_client):
        self.redis = redis_client
        self._set_if_live = redis_client.register_script(_SET_IF_LIVE)

    def create(self, data: dict, ttl_seconds: int) -> str:
        token = secrets.token_urlsafe(32)
        key = SESSION_PREFIX + token
        with self.redis.pipeline() as pipe:
            pipe.hset(key, "data", json.dumps(data, ensure_ascii=False))
            pipe.expire(key, ttl_seconds)
            pipe.execute()
        return token

    def get(self, token: str) -> dict | None:
        raw = self.redis.hgetall(SESSION_PREFIX + token)
        return _session_data({k.decode(): v.decode() for k, v in raw.items()})

    def add_person(self, token: str, person_id: int, relation: str) -> bool:
        return bool(self._set_if_live(keys=[SESSION_PREFIX + token], args=[f"person:{person_id}", relation]))

    def set_self(self, token: str, person_id: int) -> bool:
        return bool(self._set_if_live(keys=[SESSION_PREFIX + token], args=["self", str(person_id)]))

    def end(self, token: str) -> None:
        self.redis.delete(SESSION_PREFIX + token)

    def put_state(self, state: str, data: dict, ttl_seconds: int) -> None:
        self.redis.set(STATE_PREFIX + state, json.dumps(data, ensure_ascii=False), ex=ttl_seconds)

    def take_state(self, state: str) -> dict | None:
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(STATE_PREFIX + state)
            pipe.delete(STATE_PREFIX + state)
            value, deleted = pipe.execute()
        return json.loads(value) if value is not None and deleted else None


class MemoryChannelSessions:
    """For the zero-setup run command (one process); entries expire like Redis keys do."""

    def __init__(self):
        self._sessions: dict[str, tuple[dict[str, str], float]] = {}
        self._states: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def create(self, data: dict, ttl_seconds: int) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[token] = ({"data": json.dumps(data, ensure_ascii=False)}, time.monotonic() + ttl_seconds)
        return token

    def _live(self, token: str) -> dict[str, str] | None:
        entry = self._sessions.get(token)
        if entry is None or entry[1] < time.monotonic():
            self._sessions.pop(token, None)
            return None
        return entry[0]

    def get(self, token: str) -> dict | None:
        with self._lock:
            fields = self._live(token)
            return _session_data(dict(fields)) if fields is not None else None

    def _set(self, token: str, field: str, value: str) -> bool:
        with self._lock:
            fields = self._live(token)
            if fields is None:
                return False
            fields[field] = value
            return True

    def add_person(self, token: str, person_id: int, relation: str) -> bool:
        return self._set(token, f"person:{person_id}", relation)

    def set_self(self, token: str, person_id: int) -> bool:
        return self._set(token, "self", str(person_id))

    def end(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    def put_state(self, state: str, data: dict, ttl_seconds: int) -> None:
        with self._lock:
            self._states[state] = (json.dumps(data, ensure_ascii=False), time.monotonic() + ttl_seconds)

    def take_state(self, state: str) -> dict | None:
        with self._lock:
            value, expires_at = self._states.pop(state, (None, 0.0))
        return json.loads(value) if value is not None and expires_at >= time.monotonic() else None
