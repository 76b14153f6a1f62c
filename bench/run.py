"""Runs the whole benchmark: limits, the service under load, the bulk declaration; then the table.

Everything it makes is scratch and goes away at the end: two PostgreSQL databases
(``<prefix>_pgbench`` and ``<prefix>``), a temporary directory (keys, policies, logs), the
gunicorn and sandbox processes. Redis sessions are keyed by random tokens, so the Redis
database (``BENCH_REDIS_URL``) is shared safely and never flushed.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from app.adapters.crypto import FieldCipher, new_key_b64
from bench import bulk, cpu, flows, limits, profile, report, seed
from bench.scratch import Postgres, child_env, listening_socket, stop, wait_for_http

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Sizes:
    pgbench_scale: int
    pgbench_seconds: int
    flow_people: int
    flow_seconds: float
    flow_concurrency: int
    notify_count: int
    notify_seconds: float
    notify_concurrency: int
    half_seconds: float
    bulk_residents: int
    workers: int
    threads: int
    worker_class: str = "gthread"  # or sync (threads then unused): --set worker_class=sync --set workers=5


FULL = Sizes(pgbench_scale=10, pgbench_seconds=10, flow_people=6_000, flow_seconds=30,
             flow_concurrency=16, notify_count=6_000, notify_seconds=20, notify_concurrency=16, half_seconds=10,
             bulk_residents=1_000_000, workers=2, threads=8)  # as gunicorn.conf.py: a process per core
SMOKE = Sizes(pgbench_scale=1, pgbench_seconds=1, flow_people=16, flow_seconds=20,
              flow_concurrency=3, notify_count=60, notify_seconds=20, notify_concurrency=4, half_seconds=1,
              bulk_residents=3_000, workers=2, threads=2)


def say(text: str) -> None:
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"[bench {datetime.now():%H:%M:%S} load {load}] {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench",
                                     description="Benchmarks as ratios to this machine's limits (bench/README.md).")
    parser.add_argument("--smoke", action="store_true", help="tiny counts: checks the bench works, measures nothing")
    parser.add_argument("--results-dir", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases and files for a look")
    parser.add_argument("--profile", action="store_true",
                        help="sample the gunicorn workers with py-spy during the load phases and print the hot spots")
    parser.add_argument("--only", choices=["notifications", "bulk", "flow"],
                        help="the limits and this part alone (notifications: saturation, duplicates, half load; "
                             "bulk: the COPY limits and the bulk declaration; flow: the full pay flow)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=N",
                        help="change one size, e.g. --set bulk_residents=200000 (names: see Sizes in bench/run.py)")
    args = parser.parse_args(argv)
    sizes = _with_changes(SMOKE if args.smoke else FULL, args.set)
    pg = Postgres.from_url(os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432"))
    # BENCH_DB_PREFIX: scratch databases of their own, when several people bench one PostgreSQL
    prefix = f"sbf_bench_smoke_{os.getpid()}" if args.smoke else os.environ.get("BENCH_DB_PREFIX", "sbf_bench")
    work = Path(tempfile.mkdtemp(prefix="sbf-bench-"))
    started = time.monotonic()
    # other work on the machine skews every figure, the limits' too: the load averages say how much
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    results: dict = {}
    failure = None
    try:
        results["pgbench"] = _limits(pg, prefix, sizes, args.keep)
        with pg.scratch_database(prefix, keep=args.keep) as dbname:
            _service_and_bulk(pg, dbname, sizes, work, results, args.profile, args.only)
    except Exception as exc:  # the table still shows what was measured before it
        failure = f"{type(exc).__name__}: {exc}"
        results["failure"] = failure
        traceback.print_exc()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    rows = report.figures(results)
    meta = {"smoke": args.smoke, "at": datetime.now().isoformat(timespec="seconds"), "cpus": os.cpu_count(),
            "load_average_at_start": load_at_start, "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "postgresql": pg.version(), "python": sys.version.split()[0], "sizes": sizes.__dict__,
            "total_seconds": round(time.monotonic() - started, 1)}
    path = report.write_json(Path(args.results_dir), rows, results, meta)
    print(report.render(rows))
    if results.get("profiles"):
        print(profile.render(results["profiles"]))
    print(f"\n{meta['total_seconds']} s in all on {meta['cpus']} CPUs (load average {load_at_start[0]} at the start, "
          f"{meta['load_average_at_end'][0]} at the end), PostgreSQL {meta['postgresql']}; written to {path}")
    if failure:
        print(f"FAILED: {failure}")
        return 1
    return 0


def _with_changes(sizes: Sizes, changes: list[str]) -> Sizes:
    values = dict(sizes.__dict__)
    for change in changes:
        name, _, number = change.partition("=")
        if name not in values:
            raise SystemExit(f"unknown size {name!r}; known: {', '.join(values)}")
        values[name] = type(values[name])(number)
    return Sizes(**values)


def _limits(pg: Postgres, prefix: str, sizes: Sizes, keep: bool) -> dict:
    say(f"pgbench: scale {sizes.pgbench_scale}, {sizes.pgbench_seconds} s per run")
    with pg.scratch_database(prefix + "_pgbench", keep=keep) as dbname:
        measured = limits.measure_pgbench(pg, dbname, sizes.pgbench_scale, sizes.pgbench_seconds)
    say(f"pgbench: TPC-B {measured['tpcb_tps']:.0f} tps, SELECT-only {measured['select_tps']:.0f} tps")
    rsa = limits.measure_rsa(0.2 if sizes.pgbench_seconds < 5 else 2.0)
    say(f"RSA-2048: {rsa['signs_per_second']:.0f} signatures/s, {rsa['verifies_per_second']:.0f} verifications/s "
        f"on one core: {rsa['cpu_ms_per_flow']} ms of a flow, at most {rsa['flow_ceiling_per_second']} flows/s")
    return {**measured, "rsa": rsa}


def _service_and_bulk(pg: Postgres, dbname: str, sizes: Sizes, work: Path, results: dict, profiling: bool,
                      only: str | None = None) -> None:
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    keys = {"ENCRYPTION_KEY": new_key_b64(), "INDEX_KEY": new_key_b64(), "SECRET_KEY": new_key_b64()}
    listener = listening_socket()  # gunicorn's, held from now on: no other process can take its port
    port = listener.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    key_dir = work / "sandbox-keys"
    env = child_env(SBF_SETTINGS="production", SBF_DATABASE_URL=pg.sqlalchemy_url(dbname),
                    SBF_REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
                    SBF_PUBLIC_BASE_URL=base_url, SBF_SANDBOX_KEY_DIR=str(key_dir),
                    SBF_POLICY_DIR=str(seed.write_policies(work / "policies", ROOT / "config" / "policies", year)),
                    SBF_INSTANCE_DIR=str(work / "instance"), PYTHONPATH=str(ROOT),
                    BENCH_DICT_SETTINGS=json.dumps({"COUNTER_BANK_KEYS": {"ccb": new_key_b64()}}),
                    **{"SBF_" + k: v for k, v in keys.items()})
    # every gateway's keys made once, here, before three kinds of process read them at the same moment
    from payments.sandbox.wiring import GATEWAYS, sandbox_provider_settings

    sandbox_provider_settings(key_dir, {g: "http://127.0.0.1:1" for g in GATEWAYS}, base_url)
    say("migrating the scratch database with flask migrate")
    _flask(env, work / "migrate.log", "migrate")
    if only in (None, "bulk"):
        say(f"COPY {sizes.bulk_residents:,} assessment-shaped rows (as many as the bulk declaration makes)")
        results["copy"] = limits.measure_copy(pg, dbname, sizes.bulk_residents)
        say(f"COPY: {results['copy']['seconds']} s")
    cipher = FieldCipher.from_settings(keys["ENCRYPTION_KEY"], keys["INDEX_KEY"])
    if only == "bulk":
        _bulk(pg, dbname, cipher, env, year + 1, sizes, work, results)
        return
    conninfo = pg.conninfo(dbname)
    people = seed.flow_people(sizes.flow_people)
    seed.load_flow_people(conninfo, cipher, people)
    sandboxes = gunicorn = None
    try:
        sandboxes = subprocess.Popen([sys.executable, "-m", "bench.sandboxes", str(key_dir)], env=env, cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=open(work / "sandboxes.log", "wb"), text=True)
        urls = json.loads(sandboxes.stdout.readline() or "{}")
        if "wechatpay" not in urls:
            raise RuntimeError(f"the sandbox gateways did not start; see {work / 'sandboxes.log'}")
        env["BENCH_DICT_SETTINGS"] = json.dumps({**json.loads(env["BENCH_DICT_SETTINGS"]), "SANDBOX_URLS": urls})
        ready = work / "ready"
        ready.mkdir()
        env["BENCH_READY_DIR"] = str(ready)
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "bench.server:create()", "-c", str(ROOT / "bench" / "gunicorn_conf.py"),
             "--bind", f"fd://{listener.fileno()}",
             "--workers", str(sizes.workers), "--worker-class", sizes.worker_class, "--threads", str(sizes.threads),
             "--keep-alive", "30", "--timeout", "60", "--log-level", "warning"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(work / "gunicorn.log", "wb"),
            pass_fds=(listener.fileno(),))
        listener.close()  # gunicorn holds its own copy
        try:
            wait_for_http(base_url + "/healthz", 60, gunicorn)
        except RuntimeError as failed:  # say why: the work directory is removed with the run
            tail = (work / "gunicorn.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{failed}; gunicorn's log ends:\n{tail}") from None
        _wait_for_workers(ready, sizes.workers, gunicorn)
        say(f"gunicorn up: {sizes.workers} {sizes.worker_class} workers × {sizes.threads} threads; "
            f"sandboxes at {urls['wechatpay']} ...")
        workers = profile.children_of(gunicorn.pid)
        # the CPU each part of the set-up spends in a phase (bench/cpu.py): per flow, whatever else runs here
        cpu_groups = {"service (gunicorn workers)": lambda: workers, "PostgreSQL (its backends)": cpu.backends_of(conninfo),
                      "sandbox gateways": lambda: [sandboxes.pid], "load generator (this process)": lambda: [os.getpid()]}

        def phase(name: str):
            if not profiling:
                return nullcontext()
            return profile.sampled(workers, work / "profiles", name, results.setdefault("profiles", {}))

        if only in (None, "flow"):
            with phase("full pay flow"):
                _pay_flows(base_url, urls["wechatpay"], conninfo, people, year, sizes, results, cpu_groups)
        if only != "flow":
            _notifications(base_url, conninfo, cipher, key_dir, year, sizes, results, phase, cpu_groups)
    finally:
        stop(gunicorn)
        stop(sandboxes)
    if only is None:
        _bulk(pg, dbname, cipher, env, year + 1, sizes, work, results)


def _wait_for_workers(ready: Path, count: int, gunicorn: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(list(ready.iterdir())) < count:
        if gunicorn.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"only {len(list(ready.iterdir()))} of {count} gunicorn workers came up")
        time.sleep(0.1)


def _per_item_ms(seconds: dict, count: int) -> dict:
    return {group: round(1000 * used / count, 3) for group, used in seconds.items()} if count else {}


def _pay_flows(base_url, sandbox_url, conninfo, people, year, sizes: Sizes, results: dict, cpu_groups) -> None:
    # a few unmeasured flows first: each worker thread's first requests import and build what they use
    warm, people = people[:2 * sizes.flow_concurrency], people[2 * sizes.flow_concurrency:]
    flows.run_pay_flows(base_url, sandbox_url, conninfo, warm, year, sizes.flow_concurrency, 30)
    say(f"full pay flow: up to {len(people):,} flows or {sizes.flow_seconds:.0f} s, {sizes.flow_concurrency} at once")
    used: dict = {}
    with cpu.measured(cpu_groups, used):
        measured = flows.run_pay_flows(base_url, sandbox_url, conninfo, people, year, sizes.flow_concurrency,
                                       sizes.flow_seconds)
    measured["cpu_ms_per_flow"] = _per_item_ms(used, measured["posted"])
    results["pay_flow"] = measured
    say(f"full pay flow: CPU ms per flow {measured['cpu_ms_per_flow']}")
    say(f"full pay flow: {measured['posted']} posted, {measured['per_second']}/s, p99 {measured['p99_ms']} ms, "
        f"failures {measured['failures']}")
    if measured["posted"] == 0 or measured["posted"] != measured["paid_at_sandbox"]:
        raise RuntimeError(f"pay flows did not all post: {measured}")


def _notifications(base_url, conninfo, cipher, key_dir, year, sizes: Sizes, results: dict, phase,
                   cpu_groups) -> None:
    notify_url = base_url + flows.NOTIFY_PATH
    orders = seed.create_paying_orders(conninfo, cipher, sizes.notify_count, year, tag="sat")
    built = flows.build_notifications(key_dir, orders, seed.FIXED_AMOUNT_FEN, notify_url)
    say(f"notifications at saturation: {len(built):,} orders, {sizes.notify_concurrency} connections")
    used: dict = {}
    with phase("notifications at saturation"), cpu.measured(cpu_groups, used):
        sat = flows.saturate(base_url, built, sizes.notify_concurrency, sizes.notify_seconds)
    sent = sat.count + sum(sat.failures.values())
    results["notify_saturation"] = {**sat.summary(), "posted": flows.count_posted(conninfo, orders[:sent]),
                                    "cpu_ms_per_notification": _per_item_ms(used, sat.count)}
    say(f"notifications: CPU ms per notification {results['notify_saturation']['cpu_ms_per_notification']}")
    say(f"notifications: {sat.per_second:.0f}/s, p99 {sat.percentile(99):.1f} ms, failures {sat.failures}")
    used = {}
    with cpu.measured(cpu_groups, used):
        dup = flows.saturate(base_url, built[:sat.count], sizes.notify_concurrency, sizes.notify_seconds)
    results["notify_duplicates"] = {**dup.summary(), "cpu_ms_per_notification": _per_item_ms(used, dup.count)}
    say(f"duplicates: {dup.per_second:.0f}/s, CPU ms each {results['notify_duplicates']['cpu_ms_per_notification']}")
    _web_stack(base_url, sizes, results, cpu_groups)
    rate = max(sat.per_second / 2, 1.0)
    count = max(10, math.ceil(rate * sizes.half_seconds))
    orders = seed.create_paying_orders(conninfo, cipher, count, year, tag="half")
    built = flows.build_notifications(key_dir, orders, seed.FIXED_AMOUNT_FEN, notify_url)
    say(f"notifications at half load: {rate:.0f}/s for {count:,}")
    half = flows.at_rate(base_url, built, rate, sizes.notify_concurrency)
    results["notify_half"] = {**half.summary(), "rate": rate, "posted": flows.count_posted(conninfo, orders)}
    say(f"half load: p50 {half.percentile(50):.1f} ms, p99 {half.percentile(99):.1f} ms, failures {half.failures}")
    if results["notify_saturation"]["posted"] != sat.count or results["notify_half"]["posted"] != half.count:
        raise RuntimeError(f"notifications answered 204 without posting: {results}")


def _web_stack(base_url, sizes: Sizes, results: dict, cpu_groups) -> None:
    """The floor under every request: ``GET /healthz`` (no database, no Redis) through the same gunicorn,
    Flask and request hooks (request id, JSON log line, metrics), at saturation; its CPU per request."""
    count = max(100, sizes.notify_count)
    say(f"the web stack alone: GET /healthz, {count:,} requests, {sizes.notify_concurrency} connections")
    used: dict = {}
    with cpu.measured(cpu_groups, used):
        bare = flows.bare_requests(base_url, count, sizes.notify_concurrency, sizes.notify_seconds)
    results["bare_request"] = {**bare.summary(), "cpu_ms_per_request": _per_item_ms(used, bare.count)}
    say(f"web stack: {bare.per_second:.0f}/s, CPU ms each {results['bare_request']['cpu_ms_per_request']}")


def _bulk(pg: Postgres, dbname: str, cipher, env, year, sizes: Sizes, work: Path, results: dict) -> None:
    conninfo = pg.conninfo(dbname)
    say(f"making {sizes.bulk_residents:,} enrolled residents set-based")
    made = seed.create_bulk_residents(conninfo, cipher, sizes.bulk_residents)
    say(f"made in {made['seconds']} s; COPY into a table with assessment's indexes and keys")
    results["copy_keyed"] = limits.measure_copy_keyed(pg, dbname, seed.BULK_REGION)
    say(f"COPY with indexes and keys: {results['copy_keyed']['seconds']} s; flask bulk declare-year")
    first = bulk.run_declare_year(env, year, work / "bulk.log")
    job = bulk.job_figures(conninfo, year)
    say(f"bulk: {first['seconds']} s, peak {first['peak_rss_mb']} MB, {job['assessments']:,} assessments; again")
    again = bulk.run_declare_year(env, year, work / "bulk.log")
    after = bulk.job_figures(conninfo, year)
    results["bulk"] = {**first, **job, "residents": sizes.bulk_residents, "setup_seconds": made["seconds"],
                       "again_seconds": again["seconds"], "again_created": after["created_last_pass"]}
    if job["assessments"] != sizes.bulk_residents or after["created_last_pass"] != 0:
        raise RuntimeError(f"bulk declaration made {job['assessments']} (then {after['created_last_pass']} more)")


def _flask(env: dict, log: Path, *args: str) -> None:
    with open(log, "ab") as out:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "bench.server:create()", *args], env=env,
                              cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed; see {log}")
