"""Scratch resources of a bench run: databases it creates and drops, free loopback ports, child processes."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import psycopg


@dataclass(frozen=True)
class Postgres:
    """Where the server is (``BENCH_PG_URL``, default the test command's local PostgreSQL)."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"

    @classmethod
    def from_url(cls, url: str) -> "Postgres":
        parts = urlsplit(url)
        return cls(parts.hostname or "127.0.0.1", parts.port or 5432, parts.username or "postgres")

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def sqlalchemy_url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def cli_args(self, dbname: str) -> list[str]:
        return ["-h", self.host, "-p", str(self.port), "-U", self.user, dbname]

    def version(self) -> str:
        with psycopg.connect(self.conninfo()) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextmanager
    def scratch_database(self, name: str, keep: bool = False):
        """A database made for this run and dropped after it (unless kept for a look)."""
        self.create_database(name)
        try:
            yield name
        finally:
            if not keep:
                self.drop_database(name)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_socket() -> socket.socket:
    """A loopback socket already listening on a port of its own, to hand to a server (gunicorn's ``fd://``).

    A port found free and released (``free_port``) can be handed by the kernel to the next process
    that binds port 0 — here the sandbox gateways, started before gunicorn — which then cannot bind it.
    """
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    return s


def wait_for_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers 200 (or the process serving it dies)."""
    import http.client

    parts = urlsplit(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:3]} exited with {proc.returncode} before answering {url}")
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
            conn.request("GET", parts.path or "/")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def stop(proc: subprocess.Popen | None, timeout: float = 15.0) -> None:
    """Stop a child this run started: SIGTERM (gunicorn's graceful stop), then SIGKILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def child_env(**values: str) -> dict:
    """This process's environment plus ``values`` (children inherit PATH and the virtualenv)."""
    env = dict(os.environ)
    env.update({k: str(v) for k, v in values.items()})
    return env
