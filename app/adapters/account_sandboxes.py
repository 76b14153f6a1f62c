"""The SMS gateway and the identity-verification provider (实人认证) as local sandboxes.

They answer through the same ports a real gateway's adapter would implement; what they
"sent" or "checked" lives in the shared short-lived store (Redis in tests and production
runs), so the inbox page, its API and every worker process see the same messages. Served at
``/sandbox/sms`` and ``/sandbox/identity`` (``app/web/account_sandbox.py``) only when
``ACCOUNT_SANDBOXES`` is on.
"""
from __future__ import annotations

import secrets
import time

from app.domain.documents import mask_id_number, mask_name

INBOX_KEY, INBOX_PHONES, SMS_DOWN = "sandbox:sms:", "sandbox:sms-phones", "sandbox:sms-down"
CHECK_KEY = "sandbox:identity:"
KEEP_SECONDS = 86400
KEEP_MESSAGES = 20


class SandboxSms:
    def __init__(self, store):
        self.store = store

    def send(self, phone: str, text: str) -> str:
        if self.store.get(SMS_DOWN):
            raise RuntimeError("sandbox sms gateway switched off")
        message_id = secrets.token_hex(8)
        box = self.store.get(INBOX_KEY + phone) or {"messages": []}
        box["messages"] = (box["messages"] + [{"id": message_id, "text": text, "at": time.time()}])[-KEEP_MESSAGES:]
        self.store.put(INBOX_KEY + phone, box, KEEP_SECONDS)
        self.store.add_member(INBOX_PHONES, phone, KEEP_SECONDS)
        return message_id

    def inbox(self, phone: str) -> list[dict]:
        return list(reversed((self.store.get(INBOX_KEY + phone) or {"messages": []})["messages"]))

    def phones(self) -> list[str]:
        return sorted(self.store.members(INBOX_PHONES))

    def switch(self, down: bool) -> None:
        self.store.put(SMS_DOWN, {"down": True}, KEEP_SECONDS) if down else self.store.delete(SMS_DOWN)


class SandboxIdentity:
    """A liveness check the person "takes" on the sandbox page (or a test through its API)."""

    def __init__(self, store, base_url: str):
        self.store, self.base_url = store, base_url.rstrip("/")

    def start(self, name: str, id_type: str, id_number: str, return_url: str) -> tuple[str, str]:
        check_id = secrets.token_urlsafe(16)
        self.store.put(CHECK_KEY + check_id, {"status": "pending", "name": mask_name(name),
                                              "id_number": mask_id_number(id_number), "return_url": return_url},
                       KEEP_SECONDS)
        return check_id, f"{self.base_url}/sandbox/identity/checks/{check_id}"

    def result(self, check_id: str) -> str:
        record = self.store.get(CHECK_KEY + check_id)
        return record["status"] if record else "failed"

    def get(self, check_id: str) -> dict | None:
        return self.store.get(CHECK_KEY + check_id)

    def decide(self, check_id: str, outcome: str) -> bool:
        record = self.store.get(CHECK_KEY + check_id)
        if record is None or record["status"] != "pending" or outcome not in ("passed", "failed"):
            return False
        record["status"] = outcome
        self.store.put(CHECK_KEY + check_id, record, KEEP_SECONDS)
        return True
