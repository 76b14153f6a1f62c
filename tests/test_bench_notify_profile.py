"""``python -m bench.notify_profile`` end to end with a handful of notifications, so it cannot rot.

It checks that every notification replayed was posted and that the profile is printed, not how
fast anything was.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


def test_the_in_process_notification_profile_posts_every_notification_it_replays(settings):
    db = make_url(settings["DATABASE_URL"])
    env = {"BENCH_PG_URL": f"postgresql://{db.username}@{db.host}:{db.port or 5432}",
           "BENCH_REDIS_URL": settings["REDIS_URL"], "BENCH_DB_PREFIX": f"sbf_bench_profile_{os.getpid()}"}
    done = subprocess.run([sys.executable, "-m", "bench.notify_profile", "--count", "5", "--profile", "5"], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=240)

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "5 notifications, 5 posted" in done.stdout
    assert "Ordered by: cumulative time" in done.stdout
