"""``python -m tests.remote_sandboxes KEY_DIR``: the payment sandbox gateways in a process of their own.

For the production test they stand where the real providers would: another process, reached
over HTTP at the URLs and with the keys the settings name. They bind free loopback ports,
print ``{code: url}`` as one JSON line once serving, and stop on SIGTERM.
"""
from __future__ import annotations

import json
import signal
import sys
import threading


def main(argv: list[str]) -> int:
    from payments.sandbox.wiring import GATEWAYS, start_sandboxes

    served = start_sandboxes(argv[0], {code: "http://127.0.0.1:0" for code in GATEWAYS})
    print(json.dumps(dict(zip(GATEWAYS, (s.url for s in served)))), flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    while not stopped.wait(0.5):
        pass
    for s in served:
        s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
