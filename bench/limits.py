"""This machine's limits, measured on the same PostgreSQL the service uses, in the same run.

* pgbench TPC-B (``-c 8 -j 2``) and SELECT-only (``-S``) tps, in a scratch database made by
  ``pgbench -i`` and dropped afterwards;
* COPY of N rows shaped like an assessment (the same columns as ``assessment``, values like the
  bulk declaration's) into a normal, logged scratch table with no index or constraint but its
  NOT NULLs: the fastest this PostgreSQL takes such rows in, WAL included;
* RSA-2048 (PKCS#1 v1.5, SHA-256) signatures and verifications per second on one core, with the
  ``cryptography`` library the payment SDKs use: a full pay flow makes ``RSA_SIGNATURES_PER_FLOW``
  signatures and ``RSA_VERIFICATIONS_PER_FLOW`` verifications (service and sandbox together), so
  the machine's cores divided by their cost is a ceiling no code change on our side can pass;
* for comparison, the same COPY into a scratch table that also has ``assessment``'s six indexes
  (the partial unique one included) and its three foreign keys, the rows pointing at the bulk
  residents: what the schema itself costs, whatever the SQL that fills it.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time
from datetime import date, datetime

import psycopg

from bench.scratch import Postgres

_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.M)
COPY_COLUMNS = ("id", "enrollment_id", "person_id", "insurance", "region", "period_start", "period_end",
                "amount_fen", "kind", "notice_number", "state", "subsidy_fen", "declared_at")


# A WeChat Pay flow: the service signs its prepay request, the sandbox verifies it and signs its
# answer, the service verifies that; the sandbox signs its notification, the service verifies it.
RSA_SIGNATURES_PER_FLOW = 3
RSA_VERIFICATIONS_PER_FLOW = 3


def measure_rsa(seconds: float = 1.0) -> dict:
    """RSA-2048 sign and verify operations per second on one thread, and the flows/s they allow on all cores."""
    import os

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public, message = key.public_key(), b"1700000000\nnonce\n" + b"x" * 400 + b"\n"
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())

    def rate(operation) -> float:
        done, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            for _ in range(10):
                operation()
            done += 10
        return done / elapsed

    signs = rate(lambda: key.sign(message, padding.PKCS1v15(), hashes.SHA256()))
    verifies = rate(lambda: public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256()))
    per_flow = RSA_SIGNATURES_PER_FLOW / signs + RSA_VERIFICATIONS_PER_FLOW / verifies
    cores = os.cpu_count() or 1
    return {"signs_per_second": round(signs, 1), "verifies_per_second": round(verifies, 1),
            "sign_ms": round(1000 / signs, 3), "verify_ms": round(1000 / verifies, 3),
            "cpu_ms_per_flow": round(per_flow * 1000, 3), "cores": cores,
            "flow_ceiling_per_second": round(cores / per_flow, 1)}


def pgbench_path() -> str:
    found = shutil.which("pgbench")
    if not found:
        raise RuntimeError("pgbench is not installed (it comes with the PostgreSQL server packages)")
    return found


def _pgbench(pg: Postgres, dbname: str, *args: str, timeout: float) -> str:
    done = subprocess.run([pgbench_path(), *args, *pg.cli_args(dbname)], capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout + done.stderr


def measure_pgbench(pg: Postgres, dbname: str, scale: int, seconds: int, clients: int = 8,
                    threads: int = 2) -> dict:
    """TPC-B and SELECT-only tps in a scratch database of ``scale`` (the caller creates and drops it)."""
    started = time.monotonic()
    _pgbench(pg, dbname, "-i", "-q", "-s", str(scale), timeout=300)
    init_seconds = time.monotonic() - started
    common = ("-c", str(clients), "-j", str(threads), "-T", str(seconds))  # pgbench vacuums before each run
    tpcb = _pgbench(pg, dbname, *common, timeout=seconds + 120)
    select_only = _pgbench(pg, dbname, "-S", *common, timeout=seconds + 120)
    return {"scale": scale, "seconds": seconds, "clients": clients, "threads": threads,
            "init_seconds": round(init_seconds, 2), "tpcb_tps": _tps(tpcb), "select_tps": _tps(select_only)}


def _tps(output: str) -> float:
    match = _TPS.search(output)
    if not match:
        raise RuntimeError(f"no tps in pgbench output: {output[-300:]}")
    return float(match.group(1))


def measure_copy(pg: Postgres, dbname: str, rows: int, batch: int = 50_000) -> dict:
    """COPY ``rows`` assessment-shaped rows into a fresh logged table; the table is dropped after."""
    with psycopg.connect(pg.conninfo(dbname), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy_assessment")
        # LIKE copies the columns and their NOT NULLs, no index, no key, no default
        conn.execute("CREATE TABLE bench_copy_assessment (LIKE assessment)")
        try:
            seconds = _copy(conn, "bench_copy_assessment", range(1, rows + 1), lambda i: (i, i), batch)
            copied = conn.execute("SELECT count(*) FROM bench_copy_assessment").fetchone()[0]
        finally:
            conn.execute("DROP TABLE IF EXISTS bench_copy_assessment")
    if copied != rows:
        raise RuntimeError(f"COPY wrote {copied} rows, not {rows}")
    return {"rows": rows, "seconds": round(seconds, 3), "rows_per_second": round(rows / seconds),
            "table": "normal (logged), assessment's columns, no index or constraint"}


def measure_copy_keyed(pg: Postgres, dbname: str, region: str, batch: int = 50_000) -> dict:
    """COPY one assessment-shaped row per enrollment of ``region`` into a table with assessment's indexes and keys.

    The region's enrollments and their persons were made in one go, so both run in unbroken id ranges.
    """
    with psycopg.connect(pg.conninfo(dbname), autocommit=True) as conn:
        e_first, e_last, p_first, p_last, rows = conn.execute(
            "SELECT min(id), max(id), min(person_id), max(person_id), count(*) FROM enrollment WHERE region = %s",
            (region,)).fetchone()
        if not rows or e_last - e_first != rows - 1 or p_last - p_first != rows - 1:
            raise RuntimeError(f"the enrollments of {region} are not one unbroken id range")
        conn.execute("DROP TABLE IF EXISTS bench_copy_keyed")
        conn.execute("CREATE TABLE bench_copy_keyed (LIKE assessment INCLUDING INDEXES)")
        try:
            for column, table in (("enrollment_id", "enrollment"), ("person_id", "person"),
                                  ("choice_id", "contribution_choice")):
                conn.execute(f"ALTER TABLE bench_copy_keyed ADD FOREIGN KEY ({column}) REFERENCES {table} (id)")
            indexes = conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'bench_copy_keyed'").fetchone()[0]
            seconds = _copy(conn, "bench_copy_keyed", range(e_first, e_last + 1),
                            lambda e: (e, e - e_first + p_first), batch)
        finally:
            conn.execute("DROP TABLE IF EXISTS bench_copy_keyed")
    return {"rows": rows, "seconds": round(seconds, 3), "rows_per_second": round(rows / seconds),
            "table": f"normal (logged), assessment's columns, {indexes} indexes and 3 foreign keys"}


def _copy(conn, table: str, ids: range, refs, batch: int) -> float:
    """COPY a row per id (enrollment and person from ``refs``) in one transaction; returns the seconds."""
    today = date.today()
    stamp = datetime.now().astimezone().isoformat()
    prefix, year = f"990100{today:%Y%m%d}", today.year
    started = time.monotonic()
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
            for first in range(0, len(ids), batch):
                lines = []
                for i in ids[first:first + batch]:
                    enrollment, person = refs(i)
                    lines.append(f"{i}\t{enrollment}\t{person}\tmedical\t990100\t{year}-01-01\t{year}-12-31\t"
                                 f"40000\tregular\t{prefix}{enrollment:012d}\tdeclared_unpaid\t70000\t{stamp}\n")
                copy.write("".join(lines))
    return time.monotonic() - started
