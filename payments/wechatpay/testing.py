"""A WeChat Pay provider wired to a running sandbox gateway, for tests and local runs."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from payments.sandbox.common import SandboxClient, SandboxSetup, ServedApp
from payments.sandbox.wechatpay import create_sandbox_app, sandbox_provider_settings, shutdown_sandbox
from payments.wechatpay.provider import build


@contextmanager
def sandboxed_provider(key_dir: Path, time_scale: float = 0.001,
                       **provider_overrides) -> Iterator[SandboxSetup]:
    """Serve a sandbox on 127.0.0.1 and yield the provider, a control client and its URL.

    ``provider_overrides`` replace build settings, e.g. ``timeout_seconds=0.5`` or
    ``private_key_file=...`` to sign with a key the sandbox does not know.
    """
    app = create_sandbox_app(key_dir, time_scale=time_scale)
    try:
        with ServedApp(app) as served:
            settings = {**sandbox_provider_settings(key_dir, served.url), **provider_overrides}
            yield SandboxSetup(provider=build(**settings), client=SandboxClient(served.url),
                               url=served.url)
    finally:
        shutdown_sandbox(app)
