"""What every sandbox gateway shares: serving in a thread, fault switches, keys, and the
notification sender that retries on the provider's real schedule.

Each provider's sandbox (``payments/sandbox/<code>.py`` or package) builds a Flask app on
top of these pieces and speaks only its own protocol. ``time_scale`` compresses the retry
schedule for tests (0.001 turns 15 s into 15 ms); the run command uses 1.0.
"""
from __future__ import annotations

import heapq
import itertools
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, TypeVar

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Faults:
    """Switches a test (or a person at ``/_control``) flips to make the gateway misbehave."""

    api_delay_seconds: float = 0.0  # sleep before answering API calls (our client times out)
    api_5xx: bool = False  # answer API calls with HTTP 500
    duplicate_notifications: int = 0  # send each notification this many extra times at once
    lose_notifications: bool = False  # never send notifications (we must query)
    out_of_order: bool = False  # send queued notifications newest first
    notify_delay_seconds: float = 0.0  # hold notifications back this long (e.g. past expiry)
    notify_amount_delta_fen: int = 0  # a correctly signed notification whose amount is off by this much
    # the daily statement's faults, the ones reconciliation exists to find
    statement_drop_order: str = ""  # leave this order's payment out of the statement
    statement_amount_order: str = ""  # list this order's payment ...
    statement_amount_delta_fen: int = 0  # ... off by this many fen
    statement_duplicate_order: str = ""  # list this order's payment twice
    statement_unknown_debit_fen: int = 0  # add a payment of this amount for an order nobody opened
    statement_unknown_refund_fen: int = 0  # add a refund of this amount nobody asked for, of the day's first payment

    def update(self, values: dict) -> None:
        for key, value in values.items():
            if not hasattr(self, key):
                raise KeyError(key)
            setattr(self, key, type(getattr(self, key))(value))

    def as_dict(self) -> dict:
        return asdict(self)


def unknown_numbers(day: date) -> tuple[str, str]:
    """The order and refund numbers of the statement's invented lines (``statement_unknown_*``)."""
    return f"SBX{day:%Y%m%d}UNKNOWN", f"SBXR{day:%Y%m%d}UNKNOWN"


def faulty_payments(faults: Faults, payments: list[T], order_no: Callable[[T], str],
                    with_delta: Callable[[T, int], T]) -> list[T]:
    """The day's payments as the statement lists them once the statement faults are applied."""
    listed = []
    for payment in payments:
        number = order_no(payment)
        if number == faults.statement_drop_order:
            continue
        if number == faults.statement_amount_order and faults.statement_amount_delta_fen:
            payment = with_delta(payment, faults.statement_amount_delta_fen)
        listed.append(payment)
        if number == faults.statement_duplicate_order:
            listed.append(payment)
    return listed


@dataclass
class Delivery:
    """One attempt to deliver a notification, kept for tests and the control page."""

    notification_id: str
    url: str
    attempt: int
    status: int | None
    acknowledged: bool
    at: float


@dataclass(order=True)
class _Pending:
    due: float
    seq: int
    notification_id: str = field(compare=False)
    url: str = field(compare=False)
    headers_factory: Callable[[], tuple[dict, bytes]] = field(compare=False)
    attempt: int = field(compare=False, default=0)


class Notifier:
    """Sends notifications and retries them on a schedule until acknowledged.

    ``build`` is called at each attempt so a provider can sign with a fresh timestamp, as the
    real ones do. ``is_acknowledged(status, body)`` applies the provider's rule.
    """

    def __init__(self, schedule_seconds: list[float], is_acknowledged: Callable[[int, bytes], bool],
                 faults: Faults, time_scale: float = 1.0, timeout: float = 5.0):
        self.schedule = list(schedule_seconds)
        self.is_acknowledged = is_acknowledged
        self.faults = faults
        self.time_scale = time_scale
        self.timeout = timeout
        self.deliveries: list[Delivery] = []
        self._queue: list[_Pending] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="sandbox-notifier", daemon=True)
        self._thread.start()

    def send(self, notification_id: str, url: str, build: Callable[[], tuple[dict, bytes]]) -> None:
        """Queue a notification; duplicates and delays follow the fault switches."""
        if self.faults.lose_notifications:
            log.info("sandbox: notification %s lost on purpose", notification_id)
            return
        due = time.monotonic() + self.faults.notify_delay_seconds * self.time_scale
        with self._cv:
            for _ in range(1 + self.faults.duplicate_notifications):
                heapq.heappush(self._queue, _Pending(due, next(self._seq), notification_id, url, build))
            self._cv.notify()

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify()
        self._thread.join(timeout=2)

    def _take_due(self) -> list[_Pending] | None:
        with self._cv:
            while not self._stopped:
                now = time.monotonic()
                if self._queue and self._queue[0].due <= now:
                    batch = []
                    while self._queue and self._queue[0].due <= now:
                        batch.append(heapq.heappop(self._queue))
                    if self.faults.out_of_order:
                        batch.reverse()
                    return batch
                timeout = (self._queue[0].due - now) if self._queue else None
                self._cv.wait(timeout)
            return None

    def _run(self) -> None:
        while (batch := self._take_due()) is not None:
            if len(batch) > 1 and self.faults.duplicate_notifications:
                # duplicates arrive together, "from several servers, within seconds"
                threads = [threading.Thread(target=self._attempt, args=(p,)) for p in batch]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            else:
                for pending in batch:
                    self._attempt(pending)

    def _attempt(self, pending: _Pending) -> None:
        headers, body = pending.headers_factory()
        status: int | None = None
        acknowledged = False
        try:
            answer = requests.post(pending.url, data=body, headers=headers, timeout=self.timeout)
            status = answer.status_code
            acknowledged = self.is_acknowledged(status, answer.content)
        except requests.RequestException as exc:
            log.info("sandbox: notification %s to %s failed: %s", pending.notification_id, pending.url, exc)
        self.deliveries.append(Delivery(pending.notification_id, pending.url, pending.attempt + 1,
                                        status, acknowledged, time.time()))
        if not acknowledged and pending.attempt < len(self.schedule):
            delay = self.schedule[pending.attempt] * self.time_scale
            with self._cv:
                heapq.heappush(self._queue, _Pending(time.monotonic() + delay, next(self._seq),
                                                     pending.notification_id, pending.url,
                                                     pending.headers_factory, pending.attempt + 1))
                self._cv.notify()


class ServedApp:
    """A WSGI app served on 127.0.0.1 in a background thread (port 0 picks a free one)."""

    def __init__(self, wsgi_app, host: str = "127.0.0.1", port: int = 0):
        self._server = make_server(host, port, wsgi_app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"served-{self.port}",
                                        daemon=True)

    def start(self) -> "ServedApp":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def __enter__(self) -> "ServedApp":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def ensure_rsa_key(path: Path, bits: int = 2048) -> bytes:
    """Return the PEM (PKCS#8) private key at ``path``, generating it on first use."""
    path = Path(path)
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    tmp.write_bytes(pem)
    os.replace(tmp, path)  # two processes starting at once agree on one key
    return path.read_bytes()


def public_pem(private_pem: bytes) -> bytes:
    """The SubjectPublicKeyInfo PEM of a private key PEM."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def cert_serial(cert_pem: bytes) -> int:
    return x509.load_pem_x509_certificate(cert_pem).serial_number


def sha256_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize().hex()


def control_payload(faults: Faults, notifier: Notifier) -> str:
    """The JSON the ``/_control`` endpoints answer with."""
    return json.dumps({"faults": faults.as_dict(),
                       "deliveries": [asdict(d) for d in notifier.deliveries]})


@dataclass(frozen=True)
class SandboxSetup:
    """A provider wired to a running sandbox, as tests and the run command use it."""

    provider: object
    client: "SandboxClient"
    url: str


class SandboxClient:
    """Drives a sandbox's ``/_control`` endpoints, the same for every provider's sandbox.

    Endpoints every sandbox serves: ``GET /_control`` (faults and deliveries),
    ``POST /_control/faults`` (JSON of Faults fields), ``POST /_control/reset``,
    ``POST /_control/orders/<order_no>/pay`` (the payer confirms, as on the cashier page)
    and ``POST /_control/orders/<order_no>/cancel``.
    """

    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _post(self, path: str, payload: dict | None = None) -> dict:
        answer = requests.post(self.base_url + path, json=payload or {}, timeout=self.timeout)
        answer.raise_for_status()
        return answer.json()

    def state(self) -> dict:
        answer = requests.get(self.base_url + "/_control", timeout=self.timeout)
        answer.raise_for_status()
        return answer.json()

    def set_faults(self, **faults) -> dict:
        return self._post("/_control/faults", faults)

    def reset(self) -> dict:
        return self._post("/_control/reset")

    def pay(self, order_no: str) -> dict:
        return self._post(f"/_control/orders/{order_no}/pay")

    def cancel(self, order_no: str) -> dict:
        return self._post(f"/_control/orders/{order_no}/cancel")

    def deliveries(self) -> list[dict]:
        return self.state()["deliveries"]
