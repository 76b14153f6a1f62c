"""Our app served on a loopback port beside the three payment sandbox gateways, for tests over real HTTP."""
from __future__ import annotations

import contextlib
import socket

from app.adapters.clock import SystemClock
from channels.sandbox.wiring import start_identity_sandboxes
from payments.sandbox.common import ServedApp
from tests.timeline import policy_dir_around, wall_today
from payments.sandbox.wiring import GATEWAYS, sandbox_provider_settings, start_sandboxes

TIME_SCALE = 0.002  # WeChat's 15 s first retry becomes 30 ms


class _Late:
    """A WSGI app set after the server is bound (the app needs to know its own URL)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def free_urls(n: int) -> list[str]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    urls = [f"http://127.0.0.1:{s.getsockname()[1]}" for s in sockets]
    for s in sockets:
        s.close()
    return urls


@contextlib.contextmanager
def served_world(settings: dict, key_dir, clock=None, provider_kwargs=None, **setting_overrides):
    """Yield {"app", "urls", "id_urls", "keys", "ours"}: the payment and identity sandboxes and our
    app, all on 127.0.0.1 ("pay_urls" is "urls" too). ``clock`` replaces the system clock of our
    app; ``provider_kwargs`` ({code: {name: value}}) adjusts a provider (a shorter timeout, say)."""
    from app.factory import create_app

    free = free_urls(len(GATEWAYS) + 2)
    urls = dict(zip(GATEWAYS, free))
    id_urls = {"wechat": free[-2], "unionpay_open": free[-1]}
    gateways = start_sandboxes(key_dir, urls, time_scale=TIME_SCALE) + start_identity_sandboxes(key_dir, id_urls)
    late = _Late()
    ours = ServedApp(late).start()
    values = dict(settings, POLICY_DIR=str(policy_dir_around(wall_today())), PUBLIC_BASE_URL=ours.url, SANDBOX_KEY_DIR=str(key_dir), SANDBOX_URLS=urls,
                  CHANNEL_SANDBOX_URLS=id_urls, **setting_overrides)
    providers = sandbox_provider_settings(key_dir, urls, ours.url, values["COUNTER_BANK_KEYS"])
    for code, kwargs in (provider_kwargs or {}).items():
        providers[code] = (providers[code][0], {**providers[code][1], **kwargs})
    app = create_app(dict(values, PAYMENT_PROVIDERS=providers), clock=clock or SystemClock())
    late.app = app
    try:
        yield {"app": app, "urls": urls, "pay_urls": urls, "id_urls": id_urls, "keys": key_dir, "ours": ours}
    finally:
        ours.stop()
        for g in gateways:
            g.stop()
        app.extensions["sbf"].engine.dispose()
