"""The benchmark in smoke mode, end to end, so it cannot rot between two real runs.

Tiny counts, the same code: pgbench in a scratch database, COPY, gunicorn with production
settings and the sandbox gateways, pay flows posted through signed notifications, the bulk
declaration run twice. It checks that every figure is there and that what was driven really
happened — not how fast (a smoke run measures nothing).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.run import SMOKE

ROOT = Path(__file__).resolve().parent.parent


def test_the_bench_smoke_run_prints_every_figure_and_writes_them_as_json(settings, tmp_path):
    db = make_url(settings["DATABASE_URL"])
    env = {"BENCH_PG_URL": f"postgresql://{db.username}@{db.host}:{db.port or 5432}",
           "BENCH_REDIS_URL": settings["REDIS_URL"]}
    done = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--results-dir", str(tmp_path)], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=240)

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    [written] = tmp_path.glob("bench-*-smoke.json")
    data = json.loads(written.read_text(encoding="utf-8"))
    figures = {f["name"]: f for f in data["figures"]}
    for wanted in ("pgbench TPC-B (-c 8 -j 2)", "pgbench SELECT-only (-S)",
                   "full pay flow (identify→declare→order→pay→posted)", "notifications posting, saturation",
                   "duplicate notifications, saturation", "bulk yearly declaration, peak memory"):
        assert figures[wanted]["value"] > 0, wanted
        assert wanted in done.stdout  # the printed table
    assert figures["full pay flow (identify→declare→order→pay→posted)"]["ratio"] > 0
    results = data["results"]
    measured_flows = SMOKE.flow_people - 2 * SMOKE.flow_concurrency  # the first ones warm the workers up
    assert results["pay_flow"]["posted"] == results["pay_flow"]["paid_at_sandbox"] == measured_flows
    assert results["notify_saturation"]["posted"] == results["notify_saturation"]["count"] == SMOKE.notify_count
    assert results["notify_half"]["posted"] == results["notify_half"]["count"]
    assert results["bulk"]["assessments"] == SMOKE.bulk_residents and results["bulk"]["again_created"] == 0

