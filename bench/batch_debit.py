"""Batch debit (统一扣款) at scale: ``python -m bench.batch_debit [--rows 1000000]``.

One run, in scratch resources it drops afterwards:

1. the limit: COPY of ``rows`` assessment-shaped rows (``bench/limits.py``), on the same PostgreSQL;
2. ``rows`` flexible workers, each with a base marked for batch debit, one declared month, a filed
   account and an active auto-pay agreement, made by set-based SQL (``generate_series``; the
   encrypted columns carry one real ciphertext of a placeholder, as the bulk bench does);
3. the sandbox bank in a process of its own, with ``open_agreements`` on (a stand-in disclosed
   here: it takes every agreement number as signed at its counter, so a million agreements need
   no million set-up calls); its parsing and answering are part of the measured time;
4. the real command ``flask batch-debit run`` as a child process: wall time (collect, write the
   request file, send it, the bank debits and writes its result file, fetch, check, settle and
   post) and its peak memory (``ru_maxrss`` from ``os.wait4``); then the same command again
   (the day run twice changes nothing), and a check that exactly ``rows`` payments were posted;
5. the floor: the row writes that posting a debited fee cannot avoid (hold the assessment, its
   payment row, mark it paid), each one set-based statement over the whole day, rolled back.

Printed as ratios: seconds ÷ COPY seconds (target ≤ 5) and peak MB (target ≤ 200).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests

from app.adapters.crypto import FieldCipher, new_key_b64
from bench import limits
from bench.scratch import Postgres, child_env, free_port, stop, wait_for_http
from payments.sandbox.wiring import GATEWAYS

ROOT = Path(__file__).resolve().parent.parent
REGION, DUE, PERIOD = "990200", "2026-11-25", "2026-11-01"


def seed(conninfo: str, cipher: FieldCipher, rows: int) -> None:
    placeholder = cipher.encrypt("placeholder", "person.name")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for sql in (
            "INSERT INTO person (id, id_type, id_number_index, id_number_enc, name_enc, created_at) "
            "SELECT g, 'resident_id', encode(sha256(('p' || g)::bytea), 'hex'), %(enc)s, %(enc)s, now() "
            "FROM generate_series(1, %(n)s) g",
            "INSERT INTO enrollment (id, person_id, insurance, region, category, insured_number, start_month, status, "
            "source_bureau, created_at) SELECT g, g, 'pension', %(region)s, 'flexible', 'B' || g, '2020-01', 'active', "
            "'hr', now() FROM generate_series(1, %(n)s) g",
            "INSERT INTO contribution_choice (id, enrollment_id, effective_month, base_fen, batch_debit_allowed, "
            "created_at) SELECT g, g, '2026-01', 398000, true, now() FROM generate_series(1, %(n)s) g",
            "INSERT INTO assessment (id, enrollment_id, person_id, insurance, region, period_start, period_end, "
            "amount_fen, kind, notice_number, state, base_fen, rate, choice_id, declared_at) "
            "SELECT g, g, g, 'pension', %(region)s, %(period)s::date, (%(period)s::date + 29), 79600, 'regular', "
            "'N' || g, 'declared_unpaid', 398000, '0.20', g, now() FROM generate_series(1, %(n)s) g",
            "INSERT INTO bank_account (id, person_id, bank_code, account_kind, account_no_index, account_no_enc, "
            "holder_name_enc, holder_is_other, created_at) SELECT g, g, '105', 'passbook', "
            "encode(sha256(('a' || g)::bytea), 'hex'), %(enc)s, %(enc)s, false, now() FROM generate_series(1, %(n)s) g",
            "INSERT INTO debit_agreement (id, payer_person_id, person_id, bank_account_id, mode, request_id, "
            "agreement_no, state, auto_pay, created_at, updated_at, version) SELECT g, g, g, g, 'signed_at_bank', "
            "'SGB' || g, 'AGB' || g, 'active', true, now(), now(), 1 FROM generate_series(1, %(n)s) g",
        ):
            conn.execute(sql, {"n": rows, "enc": placeholder, "region": REGION, "period": PERIOD})
        for table in ("person", "enrollment", "contribution_choice", "assessment", "bank_account", "debit_agreement"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {rows})")
            conn.execute(f"ANALYZE {table}")


def run_command(env: dict, log: Path) -> dict:
    args = [sys.executable, "-m", "flask", "--app", "bench.server:create()", "batch-debit", "run",
            "--region", REGION, "--due-date", DUE, "--quiet"]
    with open(log, "ab") as out:
        started = time.monotonic()
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"flask batch-debit run failed; see {log}")
    return {"seconds": round(seconds, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.batch_debit")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    pg = Postgres.from_url(os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432"))
    work = Path(tempfile.mkdtemp(prefix="sbf-bench-batch-"))
    load_at_start = os.getloadavg()[0]
    results: dict = {"rows": args.rows}
    bank = None
    with pg.scratch_database(os.environ.get("BENCH_DB_PREFIX", "sbf_bench") + "_batch", keep=args.keep) as dbname:
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "migrate"], check=True, capture_output=True,
                       env=child_env(SBF_SETTINGS="development", SBF_DATABASE_URL=pg.sqlalchemy_url(dbname),
                                     SBF_INSTANCE_DIR=str(work / "instance"), PYTHONPATH=str(ROOT)))
        results["copy"] = limits.measure_copy(pg, dbname, args.rows)
        keys = {"ENCRYPTION_KEY": new_key_b64(), "INDEX_KEY": new_key_b64(), "SECRET_KEY": new_key_b64()}
        started = time.monotonic()
        seed(pg.conninfo(dbname), FieldCipher.from_settings(keys["ENCRYPTION_KEY"], keys["INDEX_KEY"]), args.rows)
        results["seed_seconds"] = round(time.monotonic() - started, 1)
        key_dir = work / "sandbox-keys"
        port = free_port()
        bank = subprocess.Popen([sys.executable, "-c", "import sys; from bench.batch_debit import serve_bank; "
                                 f"serve_bank({str(key_dir / 'bank')!r}, {port})"],
                                env=child_env(PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL)
        try:
            bank_url = f"http://127.0.0.1:{port}"
            wait_for_http(bank_url + "/_control", 30, bank)
            requests.post(bank_url + "/_control/faults", json={"open_agreements": True}, timeout=5).raise_for_status()
            # every payment gateway the wiring knows, pointed nowhere: batch debit talks to the bank alone
            urls = {**{code: "http://127.0.0.1:1" for code in GATEWAYS}, "bank": bank_url}
            env = child_env(SBF_SETTINGS="production", SBF_DATABASE_URL=pg.sqlalchemy_url(dbname),
                            SBF_REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
                            SBF_SANDBOX_KEY_DIR=str(key_dir), SBF_BANK_FILE_DIR=str(work / "files"),
                            SBF_INSTANCE_DIR=str(work / "instance"), PYTHONPATH=str(ROOT),
                            BENCH_DICT_SETTINGS=json.dumps({"SANDBOX_URLS": urls, "COUNTER_BANK_KEYS": {"ccb": new_key_b64()}}),
                            **{"SBF_" + k: v for k, v in keys.items()})
            results["first_run"] = run_command(env, work / "batch.log")
            results["second_run"] = run_command(env, work / "batch.log")
            results["bank_peak_rss_mb"] = round(_rss_mb(bank.pid), 1)
        finally:
            stop(bank)
        with psycopg.connect(pg.conninfo(dbname)) as conn:
            results["posted"] = conn.execute("SELECT count(*), coalesce(sum(amount_fen), 0) FROM payment").fetchone()
            results["batch"] = conn.execute("SELECT state, line_count, succeeded_count, attempts, "
                                            "extract(epoch FROM updated_at - created_at) FROM debit_batch").fetchone()
        results["floor"] = measure_floor(pg.conninfo(dbname))
        print((work / "batch.log").read_text()[-600:])
    copy_s = results["copy"]["seconds"]
    first = results["first_run"]
    print(f"\nbatch debit of {args.rows:,} due assessments: {first['seconds']} s = {first['seconds'] / copy_s:.2f} × "
          f"COPY of {args.rows:,} rows ({copy_s} s; target ≤ 5), peak {first['peak_rss_mb']} MB (target ≤ 200); "
          f"again: {results['second_run']['seconds']} s, {results['second_run']['peak_rss_mb']} MB; "
          f"posted {results['posted'][0]:,} payments, {results['posted'][1]:,} fen; batch {results['batch']}; "
          f"seed {results['seed_seconds']} s; bank process peak {results['bank_peak_rss_mb']} MB; "
          f"floor (the row writes alone, set-based: hold, payment, paid) {results['floor']['seconds']} s = "
          f"{results['floor']['seconds'] / copy_s:.2f} × COPY {results['floor']['steps']}; "
          f"load average {load_at_start:.1f} → {os.getloadavg()[0]:.1f}")
    return 0 if results["posted"][0] == args.rows else 1


def measure_floor(conninfo: str) -> dict:
    """The writes that posting a debited fee cannot do without, alone and set-based, rolled back.

    Each due assessment must be held while the bank has it (declared → paying), get its own
    payment row with a unique e-ticket number, and become paid: with ``assessment``'s and
    ``payment``'s indexes and foreign keys, one statement each over every row of the day — no
    orders, order items or batch lines, no file, no bank. Whatever the batch does beyond this is
    its own cost; this is what no faster statement removes.
    """
    steps = {}
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET jit TO off")
        started = time.monotonic()
        for name, sql in (
            ("hold", "UPDATE assessment SET state = 'paying', paid_at = NULL WHERE state = 'paid'"),
            ("payment", "INSERT INTO payment (order_id, assessment_id, assessment_period_start, kind, "
                        "e_ticket_number, amount_fen, posted_at) SELECT order_id, assessment_id, "
                        "assessment_period_start, 'floor', 'F' || id, amount_fen, posted_at FROM payment"),
            ("paid", "UPDATE assessment SET state = 'paid', paid_at = now() WHERE state = 'paying'"),
        ):
            began = time.monotonic()
            conn.execute(sql)
            steps[name] = round(time.monotonic() - began, 2)
        seconds = time.monotonic() - started
        conn.rollback()
    return {"seconds": round(seconds, 3), "steps": steps}


def _rss_mb(pid: int) -> float:
    """VmHWM of a running child (the bank), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def serve_bank(key_dir: str, port: int) -> None:
    """The sandbox bank alone on ``port`` until SIGTERM (its own process: its Python time is not ours)."""
    import signal
    import threading

    from payments.sandbox.bank import create_sandbox_app
    from payments.sandbox.common import ServedApp

    served = ServedApp(create_sandbox_app(Path(key_dir)), port=port).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    while not stopped.wait(0.5):
        pass
    served.stop()


if __name__ == "__main__":
    sys.exit(main())
