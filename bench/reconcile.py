"""Reconciliation of a million-line statement, as a ratio to the COPY of as many rows, with its peak memory.

``python -m bench.reconcile [--lines 1000000] [--keep]`` (see bench/README.md):

1. a scratch database ``<BENCH_DB_PREFIX>_recon`` (``sbf_bench_recon``), migrated;
2. our books of one day made set-based (``generate_series``): N − 1,000 WeChat Pay orders posted
   across the day, each with its assessment (paid), order item and payment; 1,000 of them are
   refunded orders instead (debited, not posted, refund succeeded);
3. the day's statement written as WeChat Pay's trade bill file (the sandbox's layout): a payment
   line per order and a refund line per refund, with 10 orders left out, 10 one fen off and 10
   debits of orders nobody opened — N lines in all;
4. the COPY of N assessment-shaped rows into a logged table without indexes
   (``bench.limits.measure_copy``, the limit the figure is a ratio to), right before
   the reconciliation service run in a child process, the lines streamed from the file through
   the WeChat adapter's bill reader (``iter_trade_bill``) into ``SqlReconciliationBook``: its
   seconds (``reconcile_day`` alone, and the child's wall time with Python start-up) and its peak
   memory (``ru_maxrss`` from ``os.wait4``); it must find exactly the 30 injected differences;
5. the COPY and the same run again: nothing new is written.

Stand-in disclosed: the statement comes from a file, not from the gateway's HTTP download (the
SDK reads a download whole; a million-line bill is ~300 MB of text).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg

from bench import limits
from bench.run import ROOT, say
from bench.scratch import Postgres

DAY = date(2026, 11, 22)
DROPPED, AMOUNT_OFF, UNKNOWN, REFUNDED = 10, 10, 10, 1000
TARGET_RATIO, TARGET_MB = 3.0, 200


def seed_books(conninfo: str, orders: int) -> None:
    """One day of posted WeChat Pay orders (the last REFUNDED of them refunded instead), set-based."""
    posted_last = orders - REFUNDED
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("INSERT INTO person (id, id_type, id_number_index, id_number_enc, name_enc, created_at) "
                     "VALUES (1, 'resident_id', 'bench-reconcile', '\\x00', '\\x00', now())")
        day_start = f"TIMESTAMPTZ '{DAY.isoformat()} 00:00:00+08'"
        paid = f"{day_start} + (i::bigint * 86000 / {orders}) * INTERVAL '1 second'"
        amount = "40000 + (i % 7) * 100"
        conn.execute(f"""INSERT INTO assessment (id, person_id, insurance, region, period_start, period_end,
                             amount_fen, kind, notice_number, state, declared_at, paid_at)
                         SELECT i, 1, 'medical', '990100', DATE '2026-01-01', DATE '2026-12-31', {amount}, 'regular',
                                'N' || i, CASE WHEN i <= {posted_last} THEN 'paid' ELSE 'declared_unpaid' END,
                                {day_start} - INTERVAL '1 day', CASE WHEN i <= {posted_last} THEN {paid} END
                         FROM generate_series(1, {orders}) i""")
        conn.execute(f"""INSERT INTO payment_order (id, order_no, channel, provider, method, amount_fen, state,
                             description, created_at, expires_at, paid_at, posted_at, version)
                         SELECT i, 'B' || lpad(i::text, 12, '0'), 'wechat_oa', 'wechatpay', 'jsapi', {amount},
                                CASE WHEN i <= {posted_last} THEN 'posted' ELSE 'refunded' END, '社保费',
                                {paid} - INTERVAL '1 minute', {paid} + INTERVAL '1 hour', {paid},
                                CASE WHEN i <= {posted_last} THEN {paid} END, 0
                         FROM generate_series(1, {orders}) i""")
        conn.execute(f"""INSERT INTO order_item (order_id, assessment_id, assessment_period_start, person_id,
                                                 amount_fen, live)
                         SELECT i, i, DATE '2026-01-01', 1, {amount}, i <= {posted_last}
                         FROM generate_series(1, {orders}) i""")
        conn.execute(f"""INSERT INTO payment (order_id, assessment_id, assessment_period_start, e_ticket_number,
                                              amount_fen, posted_at)
                         SELECT i, i, DATE '2026-01-01', 'E' || i, {amount}, {paid} FROM generate_series(1, {posted_last}) i""")
        conn.execute(f"""INSERT INTO refund (refund_no, order_id, amount_fen, reason, state, created_at, finished_at)
                         SELECT 'R' || lpad(i::text, 12, '0'), i, {amount}, '扣款成功但缴费失败', 'succeeded',
                                {paid} + INTERVAL '1 minute', {paid} + INTERVAL '2 minutes'
                         FROM generate_series({posted_last + 1}, {orders}) i""")
        conn.execute("VACUUM (ANALYZE)")  # a steady state: hint bits set, as an older table has them


def write_bill(path: Path, orders: int) -> int:
    """The day's trade bill in WeChat Pay's layout, with the injected faults; how many detail lines."""
    from payments.sandbox.wechatpay.bill import DETAIL_HEADER, SUMMARY_HEADER, yuan

    def row(values: list[str]) -> str:
        return ",".join("`" + v for v in values) + "\r\n"

    def line(i: int, kind: str, fen: int, seconds: int, order_no: str | None = None) -> str:
        at = (datetime(DAY.year, DAY.month, DAY.day) + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")
        order_no = order_no or f"B{i:012d}"
        if kind == "payment":
            return row([at, "wxbench", "1900000001", "0", "", f"42000{i:023d}", order_no, "o-bench", "JSAPI", "SUCCESS",
                        "OTHERS", "CNY", yuan(fen), "0.00", "0", "0", "0.00", "0.00", "", "", "社保费", "", "0.00",
                        "0.00%", yuan(fen), "0.00", ""])
        return row([at, "wxbench", "1900000001", "0", "", f"42000{i:023d}", order_no, "o-bench", "JSAPI", "REFUND",
                    "OTHERS", "CNY", "0.00", "0.00", f"50{i:028d}", f"R{i:012d}", yuan(fen), "0.00", "ORIGINAL",
                    "SUCCESS", "社保费", "", "0.00", "0.00%", yuan(fen), yuan(fen), ""])

    count = settled = refunded = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("\ufeff" + DETAIL_HEADER + "\r\n")
        chunk = []
        for i in range(1, orders + 1):
            if i <= DROPPED:
                continue  # left out: missing there
            fen = 40000 + (i % 7) * 100 + (1 if DROPPED < i <= DROPPED + AMOUNT_OFF else 0)
            seconds = i * 86000 // orders
            chunk.append(line(i, "payment", fen, seconds))
            settled += fen
            if i > orders - REFUNDED:
                chunk.append(line(i, "refund", fen, seconds + 60))
                refunded += fen
            if len(chunk) >= 10_000:
                count += len(chunk)
                out.write("".join(chunk))
                chunk = []
        for u in range(1, UNKNOWN + 1):
            chunk.append(line(orders + u, "payment", 12345, 43200, order_no=f"X{u:012d}"))
            settled += 12345
        count += len(chunk)
        out.write("".join(chunk))
        out.write(SUMMARY_HEADER + "\r\n")
        out.write(row([str(count), yuan(settled), yuan(refunded), "0.00", "0.00", yuan(settled), yuan(refunded)]))
    return count


def run_child(database_url: str, bill: Path) -> dict:
    """The reconciliation in a child process: its figures (printed as JSON) and its peak memory."""
    args = [sys.executable, "-m", "bench.reconcile", "--child", database_url, str(bill)]
    with tempfile.TemporaryFile() as out:
        started = time.monotonic()
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the reconciliation child failed:\n{output[-2000:]}")
    figures = json.loads(output.strip().splitlines()[-1])
    return {**figures, "wall_seconds": round(wall, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def child(database_url: str, bill: str) -> None:
    """Runs in the child: the real service and book, the statement streamed from the bill file."""
    from sqlalchemy import create_engine

    from app.adapters.clock import SHANGHAI, FixedClock
    from app.adapters.reconciliation_sql import OURS, SqlReconciliationBook
    from app.services.reconciliation import reconcile_day
    from payments.wechatpay.bill import iter_trade_bill

    engine = create_engine(database_url)
    phases: dict[str, float] = {}

    class TimedBook(SqlReconciliationBook):
        """The real book, with the seconds of each step noted (generators timed as they are drained)."""

        def load_statement(self, lines, on_progress=None, provider=None, window=None):
            started = time.monotonic()
            super().load_statement(lines, on_progress, provider, window)
            phases["parse_and_stage"] = round(time.monotonic() - started, 3)

        def _build_ours(self, provider, window):  # on its own thread, during load_statement on PostgreSQL
            started = time.monotonic()
            super()._build_ours(provider, window)
            phases["our_side_built"] = round(time.monotonic() - started, 3)

        def statement_totals(self):
            started = time.monotonic()
            totals = super().statement_totals()
            phases["statement_totals"] = round(time.monotonic() - started, 3)
            return totals

        def our_totals(self, provider, window):
            started = time.monotonic()
            totals = super().our_totals(provider, window)
            phases["our_totals"] = round(time.monotonic() - started, 3)
            return totals

        def commit(self):
            started = time.monotonic()
            super().commit()
            phases["commit"] = round(time.monotonic() - started, 3)

        def _query(self, sql, provider, window, settings=()):
            started = time.monotonic()
            rows = super()._query(sql, provider, window, settings)
            name = "orders_query" if OURS in sql else "refunds_queries"  # our side of the day: the order query
            phases[name] = round(phases.get(name, 0) + time.monotonic() - started, 3)
            return rows

    clock = FixedClock(datetime(DAY.year, DAY.month, DAY.day, tzinfo=SHANGHAI) + timedelta(days=1, hours=10))
    with open(bill, encoding="utf-8", newline="") as lines:
        started = time.monotonic()
        parsed = sum(1 for _ in iter_trade_bill(lines))
        parse_seconds = time.monotonic() - started
    with open(bill, encoding="utf-8", newline="") as lines:
        started = time.monotonic()
        report = reconcile_day(DAY, "wechatpay", {"wechatpay": object()}, lambda: TimedBook(engine),
                               clock, statement=iter_trade_bill(lines))
        seconds = time.monotonic() - started
    kinds: dict[str, int] = {}
    for difference in report.differences:
        kinds[difference.kind] = kinds.get(difference.kind, 0) + 1
    print(json.dumps({"seconds": round(seconds, 3), "parse_only_seconds": round(parse_seconds, 3),
                      "parsed": parsed, "phases": phases, "differences": kinds, "new": report.new_differences,
                      "run_written": report.run_written, "statement_payments": report.run.statement.payment_count,
                      "statement_refunds": report.run.statement.refund_count,
                      "our_payments": report.run.ours.payment_count}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reconcile", description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="statement lines (default 1,000,000)")
    parser.add_argument("--smoke", action="store_true", help="5,000 lines in a database of this process: checks it works")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and bill file")
    parser.add_argument("--results-dir", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--child", nargs=2, metavar=("DATABASE_URL", "BILL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0

    from app.migrate import upgrade_database

    pg = Postgres.from_url(os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432"))
    if args.smoke:
        args.lines = 5_000
    orders = args.lines - REFUNDED - UNKNOWN + DROPPED
    results: dict = {"lines": args.lines, "orders": orders}
    work = tempfile.mkdtemp(prefix="sbf-bench-recon-")
    # BENCH_DB_PREFIX: scratch databases of their own, when several people bench one PostgreSQL
    prefix = os.environ.get("BENCH_DB_PREFIX", "sbf_bench")
    scratch = f"{prefix}_recon_smoke_{os.getpid()}" if args.smoke else f"{prefix}_recon"
    with pg.scratch_database(scratch, keep=args.keep) as dbname:
        url = pg.sqlalchemy_url(dbname)
        upgrade_database(url)
        say(f"our books: {orders:,} orders of {DAY} (set-based)")
        seed_books(pg.conninfo(dbname), orders)
        bill = Path(work) / "trade_bill.csv"
        written = write_bill(bill, orders)
        say(f"statement: {written:,} lines, {bill.stat().st_size / 2**20:.0f} MB")
        # the limit is measured right before each run: on a shared machine the load of a minute ago says little
        for run in ("first", "again"):
            say(f"COPY {args.lines:,} assessment-shaped rows (the limit)")
            copied = limits.measure_copy(pg, dbname, args.lines)
            results[run] = {**run_child(url, bill), "copy_seconds": copied["seconds"]}
            results[run]["ratio_to_copy"] = round(results[run]["seconds"] / copied["seconds"], 2)
            results.setdefault("copy", copied)
            say(f"{run}: reconciled in {results[run]['seconds']} s = {results[run]['ratio_to_copy']} × the COPY's "
                f"{copied['seconds']} s, peak {results[run]['peak_rss_mb']} MB, {results[run]['new']} new")
    if args.keep:
        say(f"kept: the database {dbname} and the bill {bill}")
    else:
        shutil.rmtree(work)
    expected = {"missing_there": DROPPED, "amount_differs": AMOUNT_OFF, "missing_here": UNKNOWN}
    if results["first"]["differences"] != expected or results["again"]["new"] != 0:
        raise RuntimeError(f"reconciliation found {results['first']['differences']}, expected {expected}")
    ratio = results["first"]["seconds"] / results["copy"]["seconds"]
    results["ratio_to_copy"] = round(ratio, 2)
    print(f"\nreconciliation of a {args.lines:,}-line statement")
    print(f"  COPY of {args.lines:,} rows           {results['copy']['seconds']:8.2f} s   (the limit)")
    print(f"  reconcile_day                      {results['first']['seconds']:8.2f} s   "
          f"{ratio:.2f} × COPY   target ≤ {TARGET_RATIO} × {'ok' if ratio <= TARGET_RATIO else 'MISSED'}")
    print(f"  child wall time (Python start-up)  {results['first']['wall_seconds']:8.2f} s")
    peak = results["first"]["peak_rss_mb"]
    print(f"  peak memory                        {peak:8.1f} MB  target ≤ {TARGET_MB} MB "
          f"{'ok' if peak <= TARGET_MB else 'MISSED'}")
    print(f"  the same day again                 {results['again']['seconds']:8.2f} s   "
          f"{results['again']['ratio_to_copy']:.2f} × its COPY of {results['again']['copy_seconds']:.2f} s "
          f"(nothing new written)")
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"reconcile-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps({"load": os.getloadavg(), **results}, indent=2))
    print(f"  written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
