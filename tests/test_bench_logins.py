"""The sign-in bench at a tiny size, so it cannot rot: every figure is there and the sign-ins happened."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


def test_the_login_bench_reports_logins_per_second_beside_the_argon2_rate(settings):
    db = make_url(settings["DATABASE_URL"])
    env = {**os.environ, "BENCH_PG_URL": f"postgresql://{db.username}@{db.host}:{db.port or 5432}",
           "BENCH_REDIS_URL": settings["REDIS_URL"]}
    done = subprocess.run([sys.executable, "-m", "bench.logins", "--accounts", "2", "--logins", "2", "--threads", "1",
                           "--hash-seconds", "0.3"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout[done.stdout.index("{"):])
    assert figures["logins"] == 2 and figures["logins_per_s"] > 0 and figures["argon2id"]["verifications_per_s"] > 0
    expected = figures["logins_per_s"] / figures["argon2id"]["verifications_per_s"]
    assert abs(figures["ratio_to_argon2"] - expected) < 0.01 * max(1.0, expected)
