"""Wires the channels to the local identity sandboxes: their settings, and serving them.

Used by the composition root when no channel is configured (the run command, the tests): the
adapters themselves never know they talk to a sandbox. Each channel package says how it is
wired (``channels/<code>/sandboxed.py``: ``sandbox_settings(key_dir, urls, public_base_url,
token_store_url)``), and the settings name the channels to wire (``SANDBOX_CHANNELS``) and the
identity sandboxes to serve (``CHANNEL_SANDBOX_URLS``: ``channels/sandbox/<name>.py`` each), so
adding a channel touches its package and the settings only. Alipay's login is served by the
Alipay payment sandbox, so the citizen center uses that sandbox's URL ("alipay") and keys.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Iterable, Mapping

from payments.sandbox.common import ServedApp


def sandbox_channel_settings(codes: Iterable[str], key_dir: str | Path, urls: Mapping[str, str],
                             public_base_url: str, token_store_url: str | None = None) -> dict:
    """``{code: (factory path, kwargs)}`` for each channel named, pointed at the sandboxes in ``urls``."""
    return {code: importlib.import_module(f"channels.{code}.sandboxed").sandbox_settings(
        key_dir, urls, public_base_url, token_store_url) for code in codes}


def start_identity_sandboxes(key_dir: str | Path, urls: Mapping[str, str]) -> list[ServedApp]:
    """Serve each identity sandbox (``channels/sandbox/<name>.py``) on its configured port, in threads."""
    served = []
    for name, url in urls.items():
        module = importlib.import_module(f"channels.sandbox.{name}")
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        served.append(ServedApp(module.create_sandbox_app(key_dir), port=port).start())
    return served
