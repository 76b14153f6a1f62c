"""The suite's time rule (tests/timeline.py): no test reads the wall clock on its own."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WALL_CLOCK = re.compile(r"\b(datetime\.now|datetime\.utcnow|date\.today|time\.time)\(")
ALLOWED = {ROOT / "tests" / "timeline.py", ROOT / "conftest.py"}


def _test_files() -> list[Path]:
    files = list((ROOT / "tests").rglob("*.py"))
    for package in ("payments", "channels"):
        files += [p for p in (ROOT / package).rglob("*.py") if "tests" in p.relative_to(ROOT).parts]
    return [p for p in files if p not in ALLOWED]


def test_no_test_reads_the_wall_clock_except_through_the_timeline_helpers():
    offenders = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
                 for path in _test_files()
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if WALL_CLOCK.search(line) and not line.lstrip().startswith("#")]
    assert offenders == [], "use tests/timeline.py (wall_now, wall_month, the clock fixture):\n" + "\n".join(offenders)


def test_the_policy_tables_around_any_day_cover_the_year_before_and_after():
    from datetime import date

    from app.adapters.policy_files import load_policy_book
    from tests.timeline import policy_dir_around

    book = load_policy_book(policy_dir_around(date(2031, 3, 1)))
    for region, insurance, category in {(p.region, p.insurance, p.category) for p in book.all()}:
        assert {2030, 2031, 2032} <= set(book.years(region, insurance, category))
    assert book.missing_ahead(date(2031, 3, 1), 60) == []
