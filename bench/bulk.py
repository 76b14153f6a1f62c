"""The yearly bulk declaration at scale: the real command, timed, with its peak memory.

``flask bulk declare-year`` runs as a child process; ``os.wait4`` hands back that child's own
resource usage, whose ``ru_maxrss`` is its peak resident memory (VmHWM), whatever else this
run started before. The seconds are the command's wall time, Python start-up included; the job's
own time (first to last write of its progress row) is reported beside it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench.seed import BULK_REGION


def run_declare_year(env: dict, year: int, log: Path, chunk_size: int | None = None) -> dict:
    args = [sys.executable, "-m", "flask", "--app", "bench.server:create()", "bulk", "declare-year",
            "--region", BULK_REGION, "--year", str(year), "--insurance", "medical"]
    if chunk_size:
        args += ["--chunk-size", str(chunk_size)]
    with open(log, "ab") as out:
        started = time.monotonic()
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"flask bulk declare-year exited with {proc.returncode}; see {log}")
    return {"seconds": round(seconds, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def job_figures(conninfo: str, year: int) -> dict:
    """What the job's progress rows say (one per worker's stripe) and how many assessments exist."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        created = conn.execute("SELECT count(*) FROM assessment WHERE region = %s "
                               "AND period_start = make_date(%s, 1, 1)", (BULK_REGION, year)).fetchone()[0]
        row = conn.execute("SELECT sum(created_count), sum(chunk_count), count(*), "
                           "extract(epoch FROM max(updated_at) - min(started_at)) "
                           "FROM bulk_progress WHERE job_key LIKE %s",
                           (f"declare_year:{BULK_REGION}:{year}:medical%",)).fetchone()
    return {"assessments": created, "created_last_pass": int(row[0] or 0), "chunks": int(row[1] or 0),
            "workers": row[2], "job_seconds": round(float(row[3] or 0), 3)}
