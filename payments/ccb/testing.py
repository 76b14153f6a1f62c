"""A CCB provider wired to a sandbox bank served on 127.0.0.1, for tests and local runs."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from payments.ccb.provider import build
from payments.sandbox.ccb import create_sandbox_app, sandbox_provider_settings
from payments.sandbox.common import SandboxClient, SandboxSetup, ServedApp


@contextmanager
def sandboxed_provider(key_dir: Path, time_scale: float = 0.001, **provider_overrides) -> Iterator[SandboxSetup]:
    """Serve a fresh sandbox bank and yield the provider talking to it; stop both on exit."""
    app = create_sandbox_app(Path(key_dir), time_scale=time_scale)
    served = ServedApp(app).start()
    try:
        settings = {**sandbox_provider_settings(Path(key_dir), served.url), **provider_overrides}
        yield SandboxSetup(build(**settings), SandboxClient(served.url), served.url)
    finally:
        served.stop()
        app.extensions["ccb_sandbox"].stop()
