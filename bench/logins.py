"""``python -m bench.logins``: sign-ins per second with the SMS second factor, against the argon2id
hash rate of this machine measured in the same run.

Each sign-in is what a payer's browser sends: ``POST /api/v1/accounts/logins`` (human check,
password verified with argon2id at the production parameters) and then
``POST /api/v1/accounts/logins/second-factor`` with the code read from the SMS sandbox, through
the real app on PostgreSQL (a scratch database, dropped afterwards) and Redis, in this process,
with ``--threads`` clients at once. The limit is argon2id verifications per second with the same
parameters and the same number of threads, measured just before; the ratio says how much of a
sign-in is the password hash (1.0 would mean nothing else costs anything).

Stand-ins, disclosed: the ALTCHA proofs are solved before the clock starts (the browser's work, not
the server's); the rate limits are raised so that the figure is the work, not the limiter's
refusals (the limiter is still consulted on every request); in-process WSGI calls, no network.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import altcha.v1 as altcha
import psycopg

from app.adapters.account_security import ARGON2_PARAMETERS, Argon2Hasher
from app.domain.accounts import PRIVACY_CONSENT_VERSION, Account

PASSWORD = "Bench-Login-Pass-2026!"


def _argon2_rate(threads: int, seconds: float) -> float:
    hasher = Argon2Hasher(**ARGON2_PARAMETERS)
    stored = hasher.hash(PASSWORD)
    done, stop = [0] * threads, time.monotonic() + seconds

    def work(i: int) -> None:
        while time.monotonic() < stop:
            hasher.verify(stored, PASSWORD)
            done[i] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    return sum(done) / (time.monotonic() - started)


def _solve(client) -> str:
    c = client.get("/api/v1/accounts/human-check").json
    n = altcha.solve_challenge(c["challenge"], c["salt"], c["algorithm"], c["maxNumber"]).number
    return altcha.Payload(c["algorithm"], c["challenge"], n, c["salt"], c["signature"]).to_base64()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=64)
    parser.add_argument("--logins", type=int, default=256)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--hash-seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    pg = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    dbname = f"sbf_bench_logins_{os.getpid()}"
    with psycopg.connect(pg + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    try:
        result = _run(args, pg.replace("postgresql://", "postgresql+psycopg://") + "/" + dbname, redis_url)
    finally:
        with psycopg.connect(pg + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


def _run(args, db_url: str, redis_url: str) -> dict:
    from app.factory import create_app
    from app.migrate import upgrade_database
    from config.settings import load_settings

    upgrade_database(db_url)
    generous = "1000000 per minute"
    settings = dict(load_settings("testing"), DATABASE_URL=db_url, REDIS_URL=redis_url,
                    ACCOUNT_ARGON2=ARGON2_PARAMETERS, ACCOUNT_HUMAN_CHECK_MAX_NUMBER=1000,
                    ACCOUNT_LIMITS={k: generous for k in ("login_limit_per_account", "login_limit_per_address",
                                                          "sms_limit_per_phone", "sms_limit_per_address")}
                    | {"codes_per_phone_per_day": 10 ** 9})
    app = create_app(settings)
    deps = app.extensions["sbf"].accounts
    run_id = f"{os.getpid() % 10000:04d}"
    phones = [f"139{run_id}{i:04d}" for i in range(args.accounts)]
    password_hash = deps.hasher.hash(PASSWORD)
    with deps.uow() as uow:
        for i, phone in enumerate(phones):
            account = uow.accounts.add(Account(
                username=f"bench{run_id}u{i}", name="测试", id_type="foreign_passport", id_number=f"B{run_id}{i:07d}",
                gender="male", nationality="GBR", phone=phone, password_hash=password_hash, verified_by="bench",
                created_at=datetime.now().astimezone()))
            uow.accounts.record_consent(account.id, "privacy", PRIVACY_CONSENT_VERSION, account.created_at)
        uow.commit()
    solver = app.test_client()
    proofs = [_solve(solver) for _ in range(args.logins)]
    argon2_per_s = _argon2_rate(args.threads, args.hash_seconds)

    latencies, lock, next_login = [], threading.Lock(), iter(range(args.logins))

    def one_login(i: int, client) -> None:
        k = i % args.accounts
        begun = time.monotonic()
        first = client.post("/api/v1/accounts/logins", json={"kind": "username", "username": f"bench{run_id}u{k}",
                                                             "password": PASSWORD, "human_check": proofs[i]})
        assert first.status_code == 201, first.json
        code = re.search(r"验证码为(\d{6})", deps.sms.inbox(phones[k])[0]["text"]).group(1)
        second = client.post("/api/v1/accounts/logins/second-factor",
                             json={"challenge": first.json["challenge"], "sms_code": code})
        assert second.status_code == 201, second.json
        with lock:
            latencies.append(time.monotonic() - begun)

    def worker(_t: int) -> None:
        client = app.test_client()
        while True:
            with lock:
                i = next(next_login, None)
            if i is None:
                return
            one_login(i, client)

    # accounts are shared round-robin; two threads never sign in the same account at once when
    # accounts >= threads, so one account's SMS code is never overwritten by another sign-in
    started = time.monotonic()
    with ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(worker, range(args.threads)))
    elapsed = time.monotonic() - started
    app.extensions["sbf"].engine.dispose()
    logins_per_s = args.logins / elapsed
    return {"threads": args.threads, "accounts": args.accounts, "logins": args.logins,
            "argon2id": {**ARGON2_PARAMETERS, "verifications_per_s": round(argon2_per_s, 2)},
            "logins_per_s": round(logins_per_s, 2), "ratio_to_argon2": round(logins_per_s / argon2_per_s, 3),
            "latency_ms": {"p50": round(statistics.median(latencies) * 1000, 1),
                           "p95": round(sorted(latencies)[int(len(latencies) * 0.95) - 1] * 1000, 1)}}


if __name__ == "__main__":
    raise SystemExit(main())
