"""One table of every figure with its ratio to this machine's limit, printed and written as JSON.

The targets are the project's goals, reported (met / missed), never asserted.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path


@dataclass
class Figure:
    name: str
    value: float | None
    unit: str
    basis: str = ""  # the limit the ratio is taken against
    ratio: float | None = None
    target: str = ""
    met: bool | None = None


def _ratio(value, limit):
    return round(value / limit, 3) if value is not None and limit else None


def figures(results: dict) -> list[Figure]:
    """The table's rows from the phases' results (missing phases leave their rows out)."""
    rows: list[Figure] = []
    pgb, copy = results.get("pgbench"), results.get("copy")
    tpcb = pgb["tpcb_tps"] if pgb else None
    if pgb:
        rows += [Figure("pgbench TPC-B (-c 8 -j 2)", tpcb, "tps", "limit"),
                 Figure("pgbench SELECT-only (-S)", pgb["select_tps"], "tps", "limit")]
    rsa = (pgb or {}).get("rsa")
    if rsa:
        rows += [Figure("RSA-2048 signatures, one core", rsa["signs_per_second"], "/s", "limit"),
                 Figure("RSA-2048 verifications, one core", rsa["verifies_per_second"], "/s", "limit"),
                 Figure(f"full pay flow ceiling from its RSA alone ({rsa['cores']} cores)",
                        rsa["flow_ceiling_per_second"], "flows/s", "TPC-B tps",
                        _ratio(rsa["flow_ceiling_per_second"], tpcb))]
    if copy:
        rows.append(Figure(f"COPY {copy['rows']:,} assessment rows", copy["seconds"], "s", "limit"))
    keyed = results.get("copy_keyed")
    if keyed:
        rows.append(Figure(f"COPY {keyed['rows']:,} rows, with assessment's indexes and keys", keyed["seconds"], "s",
                           "COPY s", _ratio(keyed["seconds"], copy["seconds"] if copy else None)))
    flows = results.get("pay_flow")
    if flows:
        ratio = _ratio(flows["per_second"], tpcb)
        rows += [Figure("full pay flow (identify→declare→order→pay→posted)", flows["per_second"], "flows/s",
                        "TPC-B tps", ratio, "≥ 0.07", None if ratio is None else ratio >= 0.07),
                 Figure("full pay flow, to its RSA ceiling", flows["per_second"], "flows/s", "RSA ceiling",
                        _ratio(flows["per_second"], rsa["flow_ceiling_per_second"] if rsa else None)),
                 Figure("full pay flow p50", flows["p50_ms"], "ms"),
                 Figure("full pay flow p95", flows["p95_ms"], "ms"),
                 Figure("full pay flow p99", flows["p99_ms"], "ms")]
        # the CPU each part spent per flow (bench/cpu.py), and what the cores allow at that cost
        spent = flows.get("cpu_ms_per_flow") or {}
        rows += [Figure(f"  CPU per flow: {group}", ms, "ms") for group, ms in spent.items()]
        ours = sum(ms for group, ms in spent.items() if group.startswith(("service", "PostgreSQL")))
        cores = (rsa or {}).get("cores") or os.cpu_count() or 1
        if ours:
            ceiling = round(cores * 1000 / ours, 1)
            rows += [Figure(f"full pay flow ceiling at the service's + PostgreSQL's CPU per flow ({cores} cores)",
                            ceiling, "flows/s", "TPC-B tps", _ratio(ceiling, tpcb)),
                     Figure("full pay flow, to that ceiling", flows["per_second"], "flows/s", "CPU ceiling",
                            _ratio(flows["per_second"], ceiling))]
        pg_ms = spent.get("PostgreSQL (its backends)")
        if pg_ms:  # the database's own work per flow, on every core, with the service free
            ceiling = round(cores * 1000 / pg_ms, 1)
            rows.append(Figure(f"full pay flow ceiling at PostgreSQL's CPU per flow alone ({cores} cores)",
                               ceiling, "flows/s", "TPC-B tps", _ratio(ceiling, tpcb)))
        # the ceiling if a flow cost only what the web stack costs its four requests (identify, declare, order,
        # notification) plus our side's RSA (the prepay signed; its answer and the notification verified):
        # PostgreSQL, the provider and every check of ours free
        bare = (results.get("bare_request") or {}).get("cpu_ms_per_request", {}).get("service (gunicorn workers)")
        if bare and rsa:
            floor_ms = 4 * bare + 1000 / rsa["signs_per_second"] + 2 * 1000 / rsa["verifies_per_second"]
            ceiling = round(cores * 1000 / floor_ms, 1)
            rows.append(Figure(f"full pay flow ceiling at 4 bare requests + our RSA ({floor_ms:.2f} ms, {cores} cores)",
                               ceiling, "flows/s", "TPC-B tps", _ratio(ceiling, tpcb)))
        # each step's latency as the payer's side saw it (the notification's from the payment to posted_at)
        for step, figures in flows.get("steps", {}).items():
            rows += [Figure(f"  flow step {step}, p50", figures["p50_ms"], "ms"),
                     Figure(f"  flow step {step}, p99", figures["p99_ms"], "ms")]
        # with --profile: each step's share of the workers' Python time (py-spy --gil), bench/profile.py
        steps = results.get("profiles", {}).get("full pay flow", {}).get("steps_percent", [])
        rows += [Figure(f"  flow step: {step.strip()}", pct, "% CPU") for step, pct in steps]
    sat, dup, half = results.get("notify_saturation"), results.get("notify_duplicates"), results.get("notify_half")
    if sat:
        ratio = _ratio(sat["per_second"], tpcb)
        rows += [Figure("notifications posting, saturation", sat["per_second"], "/s", "TPC-B tps", ratio, "≥ 0.30",
                        None if ratio is None else ratio >= 0.30),
                 Figure("notifications posting, saturation p99", sat["p99_ms"], "ms")]
        spent = sat.get("cpu_ms_per_notification") or {}
        rows += [Figure(f"  CPU per notification: {group}", ms, "ms") for group, ms in spent.items()]
        ours = sum(ms for group, ms in spent.items() if group.startswith(("service", "PostgreSQL")))
        cores = (rsa or {}).get("cores") or os.cpu_count() or 1
        if ours:
            ceiling = round(cores * 1000 / ours, 1)
            rows.append(Figure(f"notifications ceiling at the service's + PostgreSQL's CPU each ({cores} cores)",
                               ceiling, "/s", "TPC-B tps", _ratio(ceiling, tpcb)))
    cores = (rsa or {}).get("cores") or os.cpu_count() or 1
    if dup:
        rows.append(Figure("duplicate notifications, saturation", dup["per_second"], "/s", "TPC-B tps",
                           _ratio(dup["per_second"], tpcb)))
        # a duplicate is verified, decrypted and found posted: every step of a notification but the posting
        rows += _cpu_rows("duplicate notifications", "a duplicate's", dup.get("cpu_ms_per_notification"), cores,
                          "/s", tpcb)
    bare = results.get("bare_request")
    if bare:
        rows.append(Figure("web stack alone (GET /healthz), saturation", bare["per_second"], "/s", "TPC-B tps",
                           _ratio(bare["per_second"], tpcb)))
        rows += _cpu_rows("GET /healthz", "a bare request's", bare.get("cpu_ms_per_request"), cores, "/s", tpcb)
    if half:
        rows += [Figure(f"notifications at half load ({half['rate']:.0f}/s) p50", half["p50_ms"], "ms"),
                 Figure(f"notifications at half load ({half['rate']:.0f}/s) p95", half["p95_ms"], "ms"),
                 Figure(f"notifications at half load ({half['rate']:.0f}/s) p99", half["p99_ms"], "ms", "", None,
                        "≤ 5 ms", None if half["p99_ms"] is None else half["p99_ms"] <= 5)]
    bulk = results.get("bulk")
    if bulk:
        ratio = _ratio(bulk["seconds"], copy["seconds"] if copy else None)
        rows += [Figure(f"bulk yearly declaration, {bulk['residents']:,} residents", bulk["seconds"], "s",
                        "COPY s", ratio, "≤ 2.0", None if ratio is None else ratio <= 2.0),
                 Figure("bulk yearly declaration, job time", bulk["job_seconds"], "s", "COPY s",
                        _ratio(bulk["job_seconds"], copy["seconds"] if copy else None)),
                 Figure("bulk yearly declaration, to COPY with indexes and keys", bulk["seconds"], "s",
                        "keyed COPY s", _ratio(bulk["seconds"], keyed["seconds"] if keyed else None)),
                 Figure("bulk yearly declaration, peak memory", bulk["peak_rss_mb"], "MB", "", None, "≤ 100 MB",
                        bulk["peak_rss_mb"] <= 100),
                 Figure("bulk yearly declaration, second run (nothing new)", bulk.get("again_seconds"), "s",
                        "COPY s", _ratio(bulk.get("again_seconds"), copy["seconds"] if copy else None))]
    return rows


def _cpu_rows(what: str, whose: str, spent: dict | None, cores: int, unit: str, tpcb) -> list[Figure]:
    """The service's and PostgreSQL's CPU per item, and how many the cores allow at that cost: a ceiling."""
    spent = {group: ms for group, ms in (spent or {}).items() if group.startswith(("service", "PostgreSQL"))}
    rows = [Figure(f"  CPU per {what.removesuffix('s')}: {group}", ms, "ms") for group, ms in spent.items()]
    ours = sum(spent.values())
    if ours:
        ceiling = round(cores * 1000 / ours, 1)
        rows.append(Figure(f"ceiling at {whose} service + PostgreSQL CPU ({cores} cores)", ceiling, unit,
                           "TPC-B tps", _ratio(ceiling, tpcb)))
    return rows


def render(rows: list[Figure]) -> str:
    head = ("figure", "value", "unit", "ratio", "to", "target", "")
    lines = [head] + [(r.name, _fmt(r.value), r.unit, _fmt(r.ratio), r.basis if r.ratio is not None else "",
                       r.target, {True: "met", False: "MISSED", None: ""}[r.met]) for r in rows]
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(str(c).rjust(w) if i in (1, 3) else str(c).ljust(w)
                             for i, (c, w) in enumerate(zip(line, widths))).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and abs(value) < 10:
        return f"{value:.3f}"
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"


def write_json(directory: Path, rows: list[Figure], results: dict, meta: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"bench-{datetime.now():%Y%m%d-%H%M%S}{'-smoke' if meta.get('smoke') else ''}.json"
    path.write_text(json.dumps({"meta": meta, "figures": [asdict(r) for r in rows], "results": results},
                               ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return path
