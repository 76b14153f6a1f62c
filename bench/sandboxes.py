"""``python -m bench.sandboxes KEY_DIR``: the three sandbox gateways in a process of their own.

They bind free loopback ports, print their addresses as one JSON line, and serve until
SIGTERM. A process of their own keeps their signing and their notifier off the load
generator's interpreter lock.

Two changes for the bench, so that it measures the service and not the stand-in:

* The WeChat Pay sandbox loads its PEM private key again for every signature (every API answer,
  every notification), and loading an RSA key validates it — about 38 ms, 150 times the 0.26 ms
  of the signature itself. Here its ``sign`` uses the key loaded once. The signatures are the
  same bytes (PKCS#1 v1.5 is deterministic); only the time changes.
* The gateways' notifier sends one notification at a time, so past ~40 payments a second its
  queue, not the service, sets the pace. WeChat Pay notifies "from several servers, within
  seconds"; here each due notification goes out on a pool of ``NOTIFY_SENDERS`` threads, with
  the same signing, retries and acknowledgement rules.
"""
from __future__ import annotations

import base64
import functools
import json
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


@functools.lru_cache(maxsize=16)
def _private_key(pem: bytes):
    return serialization.load_pem_private_key(pem, password=None)


def _sign(private_pem: bytes, message: str) -> str:
    """payments.sandbox.wechatpay.keys.sign with the key loaded once."""
    return base64.b64encode(_private_key(private_pem).sign(message.encode("utf-8"), padding.PKCS1v15(),
                                                           hashes.SHA256())).decode()


def install_key_cache() -> None:
    """Make the WeChat Pay sandbox's ``sign`` (looked up at call time by ``signed_headers``) use ``_sign``."""
    from payments.sandbox.wechatpay import keys

    keys.sign = _sign


NOTIFY_SENDERS = 16


def _send_side_by_side(notifier) -> None:
    """``Notifier._run`` with every due notification handed to a pool instead of sent in turn."""
    pool = ThreadPoolExecutor(max_workers=NOTIFY_SENDERS, thread_name_prefix="sandbox-notify")
    while (batch := notifier._take_due()) is not None:
        for pending in batch:
            pool.submit(notifier._attempt, pending)
    pool.shutdown(wait=False)


def install_concurrent_notifier() -> None:
    """Before any gateway is built: its notifier thread then runs ``_send_side_by_side``."""
    from payments.sandbox.common import Notifier

    Notifier._run = _send_side_by_side


def main(argv: list[str]) -> int:
    from payments.sandbox.wiring import GATEWAYS, start_sandboxes

    install_key_cache()
    install_concurrent_notifier()
    key_dir = argv[0]
    served = start_sandboxes(key_dir, {code: "http://127.0.0.1:0" for code in GATEWAYS}, time_scale=1.0)
    print(json.dumps(dict(zip(GATEWAYS, (s.url for s in served)))), flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    while not stopped.wait(0.5):  # short waits: the handler runs between them
        pass
    for s in served:
        s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
