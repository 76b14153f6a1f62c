"""Time in tests: the one place a test reads the wall clock, and the policy data that goes with it.

The rule (``tests/test_time_rule.py`` holds every test file to it):
- a test never calls ``datetime.now()``, ``date.today()`` or ``time.time()`` itself;
- in-process tests use the ``clock`` fixture, a ``FixedClock`` at ``TODAY``, and the real
  policy tables (which cover ``TODAY``);
- tests over real HTTP share the wall clock with the sandbox gateways (signatures, expiry and
  statements read it): they take "now" from ``wall_now()`` here, and the app under them runs on
  ``policy_dir_around(wall_today())`` — the real tables plus the years around that day
  re-labelled from the latest real one — so the suite passes in any year, not only this one.
"""
from __future__ import annotations

import copy
import functools
import json
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from app.domain.periods import SHANGHAI, Month

ROOT = Path(__file__).resolve().parent.parent
POLICY_SOURCE = ROOT / "config" / "policies"

TODAY = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # the in-process tests' fixed day


def wall_now() -> datetime:
    """The wall clock in Asia/Shanghai: what the sandbox gateways and the served app read."""
    return datetime.now(SHANGHAI)


def wall_today() -> date:
    return wall_now().date()


def wall_timestamp() -> int:
    """Seconds since the epoch, as signed protocol messages carry them."""
    return int(time.time())


def wall_month(months_back: int = 0) -> str:
    """This month on the wall clock, or ``months_back`` before it, as ``YYYY-MM``."""
    return str(Month.of(wall_today()).plus(-months_back))


@functools.cache
def policy_dir_around(today: date) -> Path:
    """The real policy tables, plus last, this and next year's for every line that lacks them.

    A missing year is the line's latest real table shifted whole years (collection windows
    too), its sources marked as test data; real tables are never changed.
    """
    tables = []
    for path in sorted(POLICY_SOURCE.glob("*.json")):
        tables += json.loads(path.read_text(encoding="utf-8"))["policies"]
    have = {(t["region"], t["year"], t["insurance"], t["category"]) for t in tables}
    latest: dict[tuple, dict] = {}
    for t in tables:
        line = (t["region"], t["insurance"], t["category"])
        if line not in latest or t["year"] > latest[line]["year"]:
            latest[line] = t
    extra = []
    for (region, insurance, category), base in sorted(latest.items()):
        for year in range(today.year - 1, today.year + 2):
            if (region, year, insurance, category) not in have:
                extra.append(_shifted(base, year))
    target = Path(tempfile.mkdtemp(prefix="sbf-policies-"))
    (target / "policies.json").write_text(json.dumps({"policies": tables + extra}, ensure_ascii=False),
                                          encoding="utf-8")
    return target


def _shifted(table: dict, year: int) -> dict:
    shift = year - table["year"]
    out = copy.deepcopy(table)
    out["year"] = year
    for key in ("collection_start", "collection_end"):
        day = date.fromisoformat(table[key])
        out[key] = day.replace(year=day.year + shift, day=min(day.day, 28) if day.month == 2 else day.day).isoformat()
    out["sources"] = {k: f"test data: the {table['year']} table re-labelled {year}" for k in table.get("sources", {})}
    return out


# A child Python process a test starts keeps the test's wall clock: under CI's future-date run the
# test process has moved its wall clock (conftest.py), and a child that signs or checks protocol
# timestamps against our sandboxes must agree with it.
TRAVEL_ENV = "SBF_TEST_WALL_CLOCK"
CHILD_PRELUDE = (
    "import os\n"
    "if os.environ.get('SBF_TEST_WALL_CLOCK'):\n"
    "    import time_machine\n"
    "    time_machine.travel(float(os.environ['SBF_TEST_WALL_CLOCK']), tick=True).start()\n"
)


def child_env(**extra: str) -> dict:
    """The environment for a child Python process (run it with ``CHILD_PRELUDE`` first)."""
    import os

    env = {**os.environ, **extra}
    if os.environ.get(TRAVEL_ENV):
        env[TRAVEL_ENV] = repr(time.time())  # this process's wall clock, now
    return env
