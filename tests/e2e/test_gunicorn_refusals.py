"""Requests gunicorn itself refuses (a request line or a header past its limits) are answered in our
error shape, in Chinese — served by a real gunicorn with the project's ``gunicorn.conf.py``."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def hello(environ, start_response):
    """What the refused requests never reach."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn_port():
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                               "--bind", f"127.0.0.1:{port}", "--workers", "1",
                               "tests.e2e.test_gunicorn_refusals:hello"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)  # waiting for the server to listen, not asserting an absence
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def ask(port: int, raw: bytes) -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(raw)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:])
    return status, headers, body


def test_a_header_past_the_limit_is_a_chinese_431(gunicorn_port):
    status, headers, body = ask(gunicorn_port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
    assert status == 431 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {"code": "headers_too_large", "status": 431, "message": "请求头过大", "errors": {}}


def test_a_url_past_the_limit_is_a_chinese_414(gunicorn_port):
    status, _, body = ask(gunicorn_port, b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 414 and json.loads(body)["message"] == "请求地址过长"


def test_a_request_within_the_limits_reaches_the_app(gunicorn_port):
    status, _, body = ask(gunicorn_port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (status, body) == (200, b"ok")
