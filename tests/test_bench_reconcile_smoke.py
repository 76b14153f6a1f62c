"""The reconciliation benchmark in smoke mode, end to end, so it cannot rot between two real runs.

5,000 lines, the same code: a scratch database, the COPY limit, the books made set-based, the
WeChat bill file, the service in a child process twice. It checks the figures are there and
that the run found exactly the injected differences and wrote nothing the second time; how
fast is not its business.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


def test_the_reconciliation_bench_smoke_run_finds_the_injected_differences_and_reports(settings, tmp_path):
    db = make_url(settings["DATABASE_URL"])
    env = {"BENCH_PG_URL": f"postgresql://{db.username}@{db.host}:{db.port or 5432}"}
    done = subprocess.run([sys.executable, "-m", "bench.reconcile", "--smoke", "--results-dir", str(tmp_path)],
                          cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=240)

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "reconciliation of a 5,000-line statement" in done.stdout and "× COPY" in done.stdout
    results = json.loads(next(tmp_path.glob("reconcile-*.json")).read_text())
    assert results["first"]["differences"] == {"missing_there": 10, "amount_differs": 10, "missing_here": 10}
    assert results["first"]["statement_payments"] == 5_000 - 1_000 and results["first"]["statement_refunds"] == 1_000
    assert results["again"]["new"] == 0 and not results["again"]["run_written"]
    assert results["first"]["peak_rss_mb"] > 0 and results["copy"]["rows"] == 5_000
