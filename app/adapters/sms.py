"""The SMS port's sandbox: an inbox a person (``GET /api/v1/sandbox/sms``) and a test can read.

Nothing is sent anywhere; the last messages of each phone are kept in Redis when there is
one (so every worker process sees them), else in this process. A real SMS gateway adapter
implements the same ``send``.
"""
from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict, deque

log = logging.getLogger(__name__)
KEEP = 20


class SandboxSmsInbox:
    def __init__(self, redis_client=None, clock=None):
        self.redis = redis_client
        self.clock = clock
        self._local: dict[str, deque] = defaultdict(lambda: deque(maxlen=KEEP))
        self._lock = threading.Lock()

    def _key(self, phone: str) -> str:
        return f"sbf:sms:{phone}"

    def send(self, phone: str, text: str) -> None:
        entry = {"phone": phone, "text": text, "at": self.clock.now().isoformat() if self.clock else None}
        log.info("sandbox SMS to %s****%s", phone[:3], phone[-4:])
        if self.redis is not None:
            self.redis.lpush(self._key(phone), json.dumps(entry, ensure_ascii=False))
            self.redis.ltrim(self._key(phone), 0, KEEP - 1)
            return
        with self._lock:
            self._local[phone].appendleft(entry)

    def messages(self, phone: str) -> list[dict]:
        """Newest first."""
        if self.redis is not None:
            return [json.loads(x) for x in self.redis.lrange(self._key(phone), 0, KEEP - 1)]
        with self._lock:
            return list(self._local[phone])
