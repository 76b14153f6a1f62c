"""One process's CPU per notification, and where it goes: ``python -m bench.notify_profile``.

The notifications phase of ``python -m bench`` measures the service under gunicorn; this replays
the same signed WeChat Pay notifications (``flows.build_notifications``) in this one process
through Flask's test client, against a scratch PostgreSQL database migrated by ``flask migrate``
and the production settings the bench uses, so that cProfile can say which functions a
notification's CPU goes to. No gunicorn, no sockets: the figure is the app's own work per
notification (request hooks, verification, decryption, posting, the database driver), the part
of the bench's "gunicorn workers" CPU that the code decides.

    .venv/bin/python -m bench.notify_profile                 # 2,000 notifications, CPU per notification
    .venv/bin/python -m bench.notify_profile --profile 40    # and cProfile's 40 heaviest functions
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from app.adapters.crypto import FieldCipher, new_key_b64
from bench import flows, seed
from bench.scratch import Postgres, child_env

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 50  # the first requests import and build what they use


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.notify_profile", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2_000, help="notifications replayed (each posts an order)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also print cProfile's N heaviest functions by cumulative and by own time")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and files")
    args = parser.parse_args(argv)
    pg = Postgres.from_url(os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432"))
    dbname = os.environ.get("BENCH_DB_PREFIX", "sbf_bench") + "_notify"
    work = Path(tempfile.mkdtemp(prefix="sbf-notify-"))
    try:
        with pg.scratch_database(dbname, keep=args.keep):
            _replay(pg, dbname, work, args.count, args.profile)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _replay(pg: Postgres, dbname: str, work: Path, count: int, top: int) -> None:
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    keys = {"ENCRYPTION_KEY": new_key_b64(), "INDEX_KEY": new_key_b64(), "SECRET_KEY": new_key_b64()}
    key_dir = work / "sandbox-keys"
    env = child_env(SBF_SETTINGS="production", SBF_DATABASE_URL=pg.sqlalchemy_url(dbname),
                    SBF_REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
                    SBF_PUBLIC_BASE_URL="http://127.0.0.1:1", SBF_SANDBOX_KEY_DIR=str(key_dir),
                    SBF_POLICY_DIR=str(seed.write_policies(work / "policies", ROOT / "config" / "policies", year)),
                    SBF_INSTANCE_DIR=str(work / "instance"), PYTHONPATH=str(ROOT),
                    BENCH_DICT_SETTINGS=json.dumps({"COUNTER_BANK_KEYS": {"ccb": new_key_b64()}}),
                    **{"SBF_" + k: v for k, v in keys.items()})
    from payments.sandbox.wiring import GATEWAYS, sandbox_provider_settings

    sandbox_provider_settings(key_dir, {g: "http://127.0.0.1:1" for g in GATEWAYS}, "http://127.0.0.1:1")
    with open(work / "migrate.log", "wb") as out:
        subprocess.run([sys.executable, "-m", "flask", "--app", "bench.server:create()", "migrate"], env=env,
                       cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=True)
    os.environ.update(env)
    from bench.server import create

    app = create()
    cipher = FieldCipher.from_settings(keys["ENCRYPTION_KEY"], keys["INDEX_KEY"])
    orders = seed.create_paying_orders(pg.conninfo(dbname), cipher, count + WARM_UP, year, tag="prof")
    built = flows.build_notifications(key_dir, orders, seed.FIXED_AMOUNT_FEN, "http://127.0.0.1:1" + flows.NOTIFY_PATH)
    client = app.test_client()
    for headers, body in built[:WARM_UP]:
        _post(client, headers, body)
    measured = built[WARM_UP:]
    profiler = cProfile.Profile(time.process_time) if top else None  # CPU, not waits on PostgreSQL
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for headers, body in measured:
        _post(client, headers, body)
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    posted = flows.count_posted(pg.conninfo(dbname), orders[WARM_UP:])
    print(f"{len(measured)} notifications, {posted} posted: {1000 * cpu / len(measured):.3f} ms of CPU and "
          f"{1000 * wall / len(measured):.3f} ms of wall time each in this process"
          f"{' (under cProfile)' if profiler else ''}; load average {os.getloadavg()[0]:.2f}")
    if posted != len(measured):
        raise SystemExit("not every notification posted")
    if profiler:
        for key in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(top)
            print(out.getvalue())


def _post(client, headers: dict, body: bytes) -> None:
    answer = client.post(flows.NOTIFY_PATH, data=body, headers=headers)
    if answer.status_code != 204:
        raise SystemExit(f"the notification was answered {answer.status_code}: {answer.get_data(as_text=True)[:200]}")


if __name__ == "__main__":
    sys.exit(main())
