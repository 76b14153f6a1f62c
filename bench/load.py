"""A small load generator: keep-alive HTTP/1.1 connections on threads, closed or open loop.

Closed loop (saturation): C workers each send their next request as soon as the last one
answered. Open loop (a given rate): request k is due at ``start + k / rate`` whatever happened
before, and its latency counts from when it was due, so a slow answer that delays the next
sends is charged to the service (no coordinated omission). Counts and time are bounded; only
loopback addresses are used.
"""
from __future__ import annotations

import http.client
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator
from urllib.parse import urlsplit


class Http:
    """One keep-alive connection to one loopback server."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        parts = urlsplit(base_url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the bench only talks to loopback addresses")
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            answer = self.conn.getresponse()
            return answer.status, answer.read()
        except (OSError, http.client.HTTPException):
            self.close()  # the next request opens a new connection
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Stats:
    """What a load phase measured: latencies (seconds) of the successes, failures by reason."""

    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ok(self, seconds: float) -> None:
        with self._lock:
            self.latencies.append(seconds)

    def fail(self, reason: str) -> None:
        with self._lock:
            self.failures[reason] = self.failures.get(reason, 0) + 1

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float | None:
        """Nearest-rank percentile in milliseconds."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
        return ordered[rank] * 1000

    def summary(self) -> dict:
        return {"count": self.count, "seconds": round(self.elapsed, 3), "per_second": round(self.per_second, 1),
                "p50_ms": _ms(self.percentile(50)), "p95_ms": _ms(self.percentile(95)),
                "p99_ms": _ms(self.percentile(99)), "failures": dict(self.failures)}


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


Task = Callable[[Http], None]  # raises on failure; the runner times it


def closed_loop(base_url: str, tasks: Iterable[Task], concurrency: int, time_limit: float) -> Stats:
    """Run tasks on ``concurrency`` connections as fast as they are answered, until done or out of time."""
    stats = Stats()
    source: Iterator[Task] = iter(tasks)
    lock = threading.Lock()
    deadline = time.monotonic() + time_limit

    def worker():
        client = Http(base_url)
        while time.monotonic() < deadline:
            with lock:
                task = next(source, None)
            if task is None:
                break
            _timed(task, client, time.perf_counter(), stats)
        client.close()

    started = time.perf_counter()
    _run_threads(worker, concurrency)
    stats.elapsed = time.perf_counter() - started
    return stats


def open_loop(base_url: str, tasks: list[Task], rate: float, concurrency: int) -> Stats:
    """Send ``tasks`` at ``rate`` per second, spread over ``concurrency`` connections."""
    stats = Stats()
    counter = itertools.count()
    lock = threading.Lock()
    start = time.perf_counter() + 0.2  # every thread up before the first is due

    def worker():
        client = Http(base_url)
        while True:
            with lock:
                k = next(counter)
            if k >= len(tasks):
                break
            due = start + k / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            _timed(tasks[k], client, due, stats)
        client.close()

    _run_threads(worker, concurrency)
    stats.elapsed = time.perf_counter() - start
    return stats


def _timed(task: Task, client: Http, since: float, stats: Stats) -> None:
    try:
        task(client)
    except Exception as exc:  # a failed request is a figure, not a crash of the bench
        stats.fail(type(exc).__name__ + (f": {exc}"[:80] if str(exc) else ""))
        return
    stats.ok(time.perf_counter() - since)


def _run_threads(target: Callable[[], None], count: int) -> None:
    threads = [threading.Thread(target=target, daemon=True) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


class Refused(Exception):
    """An answer with an unexpected status."""


def expect(status: int, body: bytes, *wanted: int) -> bytes:
    if status not in wanted:
        raise Refused(f"HTTP {status} {body[:120]!r}")
    return body
