"""The tax app has no platform to sandbox: it signs in against our own accounts; the ticket
secret is the file the account side makes in the sandbox key folder."""
from __future__ import annotations

import os
from pathlib import Path


def sandbox_settings(key_dir, urls, public_base_url: str, token_store_url: str | None = None) -> tuple:
    path = Path(key_dir) / "accounts" / "ticket.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(os.urandom(32).hex().encode())
        os.replace(tmp, path)
    return ("channels.tax_app.adapter:build", {"login_url": public_base_url.rstrip("/") + "/accounts/login",
                                               "ticket_secret": path.read_text()})
