"""The Alipay provider wired to a sandbox gateway served on 127.0.0.1, for tests and development."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from payments.alipay.provider import build
from payments.sandbox.alipay import create_sandbox_app, sandbox_provider_settings, stop_sandbox
from payments.sandbox.common import SandboxClient, SandboxSetup, ServedApp


@contextmanager
def sandboxed_provider(key_dir: Path, time_scale: float = 0.001,
                       **provider_overrides) -> Iterator[SandboxSetup]:
    """Serve a sandbox, build the provider against it (settings overridable), stop both after."""
    app = create_sandbox_app(key_dir, time_scale=time_scale)
    served = ServedApp(app).start()
    try:
        settings = {**sandbox_provider_settings(key_dir, served.url), **provider_overrides}
        yield SandboxSetup(provider=build(**settings), client=SandboxClient(served.url), url=served.url)
    finally:
        served.stop()
        stop_sandbox(app)
