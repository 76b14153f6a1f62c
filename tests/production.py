"""The service as an operator runs it, for the production test: web, worker and scheduler processes.

Everything the processes know comes from ``SBF_*`` variables and one JSON settings file — no
``SBF_TEST_*``, no sandbox wiring: the payment sandboxes run in a process of their own
(``tests/remote_sandboxes.py``) and the settings name their URLs and carry their keys inline,
as they would a real provider's. The public URL is this machine's non-loopback address
(production refuses loopback), and the database is a fresh one beside the test database.
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import requests
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def non_loopback_address() -> str | None:
    """An IPv4 address of this machine other than loopback (no packet is sent)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.254", 9))
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def random_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def fresh_database(test_url: str, suffix: str) -> str:
    """A new empty database named after the test database, as a SQLAlchemy URL."""
    url = make_url(test_url)
    name = f"{url.database}_{suffix}"
    admin = f"host={url.host} port={url.port or 5432} user={url.username} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def _inline(kwargs: dict) -> dict:
    """Provider settings with every key file replaced by its text, as an operator's settings file holds them."""
    out = {}
    for key, value in kwargs.items():
        if isinstance(value, str) and os.path.isfile(value):
            out[key.removesuffix("_file")] = Path(value).read_text()
        else:
            out[key] = value
    return out


def provider_settings(key_dir: Path, urls: dict[str, str]) -> dict:
    """``PAYMENT_PROVIDERS`` for the remote sandboxes: the real factories, URLs and inline keys."""
    from payments.sandbox import alipay, unionpay, wechatpay  # only to learn the keys the sandboxes generated

    return {
        "wechatpay": ["payments.wechatpay.provider:build",
                      _inline(wechatpay.sandbox_provider_settings(key_dir / "wechatpay", urls["wechatpay"]))],
        "alipay": ["payments.alipay.provider:build",
                   _inline(alipay.sandbox_provider_settings(key_dir / "alipay", urls["alipay"]))],
        "unionpay": ["payments.unionpay.provider:build",
                     _inline(unionpay.sandbox_provider_settings(key_dir / "unionpay", urls["unionpay"]))],
        "counter": ["payments.counter.provider:build", {}],
    }


def clean_env(**values: str) -> dict:
    """This process's environment without any SBF_* variable, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SBF_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(PYTHONPATH=str(ROOT), **values)
    return env


def flask(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url}: the process exited: {log.read_text()[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s: {log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running_service(test_db_url: str, redis_url: str, work: Path):
    """Start sandboxes, migrate, import the demo people, start web + worker + scheduler; yield what a test needs."""
    host = non_loopback_address()
    if host is None:
        raise RuntimeError("this machine has no non-loopback IPv4 address to serve on")
    processes: list[subprocess.Popen] = []
    key_dir = work / "provider-keys"
    sandboxes = subprocess.Popen([PYTHON, "-m", "tests.remote_sandboxes", str(key_dir)], cwd=ROOT,
                                 env=clean_env(), stdout=subprocess.PIPE, stderr=open(work / "sandboxes.log", "wb"),
                                 text=True)
    processes.append(sandboxes)
    try:
        urls = json.loads(sandboxes.stdout.readline())
        port = free_port(host)
        settings_file = work / "settings.json"
        settings_file.write_text(json.dumps({
            "PAYMENT_PROVIDERS": provider_settings(key_dir, urls),
            "COUNTER_BANK_KEYS": {"ccb": random_key()},
            "PROVIDER_CALL_RUN_SECONDS": 1,  # the scheduler's run of due calls, and
            "ORDER_CHECK_AFTER_SECONDS": [1],  # an open order asked about a second after it opened
        }, ensure_ascii=False, indent=1), encoding="utf-8")
        metrics_dir = work / "metrics"
        metrics_dir.mkdir()
        env = clean_env(
            SBF_SETTINGS="production", SBF_SETTINGS_FILE=str(settings_file),
            SBF_DATABASE_URL=fresh_database(test_db_url, "production"), SBF_REDIS_URL=redis_url,
            SBF_ENCRYPTION_KEY=random_key(), SBF_INDEX_KEY=random_key(), SBF_SECRET_KEY=random_key(),
            SBF_BUREAU_API_KEYS=random_key(), SBF_PUBLIC_BASE_URL=f"http://{host}:{port}",
            SBF_BIND=f"{host}:{port}", SBF_WEB_WORKERS="2", SBF_WEB_THREADS="4",
            SBF_OPERATOR="ops-test", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
        migrated = flask(env, "migrate")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        rows = work / "people.json"
        demo = json.loads((ROOT / "config" / "demo_people.json").read_text(encoding="utf-8"))
        rows.write_text(json.dumps(demo["enrollments"], ensure_ascii=False), encoding="utf-8")
        imported = flask(env, "bureau", "import-enrollments", str(rows))
        assert imported.returncode == 0, imported.stderr[-3000:]
        logs = {name: work / f"{name}.log" for name in ("web", "worker", "scheduler")}
        commands = {"web": [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                    "worker": [PYTHON, "-m", "flask", "--app", "wsgi", "jobs", "worker"],
                    "scheduler": [PYTHON, "-m", "flask", "--app", "wsgi", "jobs", "scheduler"]}
        for name, command in commands.items():
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=open(logs[name], "ab"),
                                              stderr=subprocess.STDOUT))
        base = f"http://{host}:{port}"
        wait_http(base + "/healthz", processes[1], logs["web"])
        yield {"base": base, "env": env, "urls": urls, "logs": logs, "processes": processes,
               "cli": [migrated, imported]}
    finally:
        for process in reversed(processes):
            stop(process)
