"""A year of assessments built apart and attached as a partition (PostgreSQL only).

Rows going one by one through ``assessment``'s six indexes and three foreign-key checks cost
6–13 × a bare COPY; the same rows put in a bare table, then indexed, keyed and checked set-based,
cost under 2 ×. So when no partition holds the year yet, the bulk declaration:

1. keeps the year out of the DEFAULT partition with a CHECK, added NOT VALID (a moment's lock)
   and then validated (which does not block writes). If the default already holds rows of the
   year, the validation fails and the job goes the row-by-row way instead. While the CHECK
   stands, an individual declaration of the year is refused by it, and the repository turns that
   into "该年度正在集中申报，请稍后再试";
2. fills ``assessment_y<year>`` (a plain logged table with assessment's columns and defaults) in
   the usual resumable chunks;
3. builds its primary key and indexes, then a CHECK on the year (so the attach need not scan)
   and the three foreign keys, each validated in one set-based pass;
4. attaches it (the partitioned table adopts its indexes and keys: same definitions) and drops
   the default's CHECK, which the partition bound now does the work of.

Each step is one transaction with the job's phase (DDL is transactional in PostgreSQL), and
written ``IF NOT EXISTS`` besides, so a crash anywhere resumes at the step it was in.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.adapters.tables import LIVE_ASSESSMENT

# (index name suffix, definition) of assessment's indexes, as the migration made them on the parent
_INDEXES = (("choice_id", "(choice_id)"), ("enrollment_id", "(enrollment_id)"),
            ("notice_number", "(notice_number)"), ("person_id", "(person_id)"))
LOCK_TIMEOUT = "10s"
_KEYS = (("enrollment_id", "enrollment"), ("person_id", "person"), ("choice_id", "contribution_choice"))


def year_table(year: int) -> str:
    return f"assessment_y{int(year):04d}"


def _bounds(year: int) -> tuple[str, str]:
    return date(year, 1, 1).isoformat(), date(year + 1, 1, 1).isoformat()


def _exclusion(year: int) -> str:
    return f"ck_assessment_default_not_y{int(year):04d}"


class YearApart:
    """The DDL of building a year apart; mixed into the bulk store (``self.conn``, one transaction)."""

    def _sql(self, statement: str, **params):
        return self.conn.execute(text(statement), params)

    def _wait_briefly(self) -> None:
        """A step that locks the payers' tables gives up rather than queue every payer behind a long
        transaction; the job fails with the database's "lock timeout" and a new run resumes the step."""
        self._sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")

    def _has_constraint(self, table: str, name: str) -> bool:
        return self._sql("SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(:t) AND conname = :n",
                         t=table, n=name).first() is not None

    def year_state(self, year: int) -> str:
        """attached (a partition holds the year), building (its table exists, not attached yet), or none.

        Read under a lock on the year held to the end of the transaction: two jobs of one year never
        both find it unbuilt and start building it."""
        self._sql("SELECT pg_advisory_xact_lock(hashtext(:t))", t=year_table(year))
        row = self._sql("SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = c.oid) FROM pg_class c "
                        "WHERE c.oid = to_regclass(:t)", t=year_table(year)).first()
        return "none" if row is None else "attached" if row[0] else "building"

    def exclude_year_from_default(self, year: int) -> None:
        """The default partition's CHECK against the year, NOT VALID: it holds for new rows at once."""
        if not self._has_constraint("assessment_default", _exclusion(year)):
            self._wait_briefly()
            start, end = _bounds(year)
            self._sql(f"ALTER TABLE assessment_default ADD CONSTRAINT {_exclusion(year)} "
                      f"CHECK (NOT (period_start >= DATE '{start}' AND period_start < DATE '{end}')) NOT VALID")

    def validate_year_excluded(self, year: int) -> bool:
        """Validate the CHECK over the default's rows; False (and the CHECK dropped) when some are of the year."""
        try:
            with self.conn.begin_nested():
                self._sql(f"ALTER TABLE assessment_default VALIDATE CONSTRAINT {_exclusion(year)}")
        except IntegrityError:
            self._sql(f"ALTER TABLE assessment_default DROP CONSTRAINT IF EXISTS {_exclusion(year)}")
            return False
        return True

    def create_year_table(self, year: int) -> str:
        name = year_table(year)
        self._sql(f"CREATE TABLE IF NOT EXISTS {name} (LIKE assessment INCLUDING DEFAULTS)")
        return name

    def index_year(self, year: int) -> None:
        """The primary key and the five indexes, each built in one pass over the filled table."""
        name = year_table(year)
        self._sql(f"CREATE UNIQUE INDEX IF NOT EXISTS pk_{name} ON {name} (id, period_start)")
        if not self._has_constraint(name, f"pk_{name}"):
            self._sql(f"ALTER TABLE {name} ADD CONSTRAINT pk_{name} PRIMARY KEY USING INDEX pk_{name}")
        for suffix, columns in _INDEXES:
            self._sql(f"CREATE INDEX IF NOT EXISTS ix_{name}_{suffix} ON {name} {columns}")
        self._sql(f"CREATE UNIQUE INDEX IF NOT EXISTS uq_{name}_live_period ON {name} (enrollment_id, period_start) "
                  f"WHERE {LIVE_ASSESSMENT.text}")

    def key_year(self, year: int) -> None:
        """The CHECK on the year (the attach relies on it instead of scanning) and the three foreign keys."""
        name, (start, end) = year_table(year), _bounds(year)
        if not self._has_constraint(name, f"ck_{name}_year"):
            self._sql(f"ALTER TABLE {name} ADD CONSTRAINT ck_{name}_year "
                      f"CHECK (period_start >= DATE '{start}' AND period_start < DATE '{end}')")
        for column, target in _KEYS:
            if not self._has_constraint(name, f"fk_{name}_{column}_{target}"):
                self._sql(f"ALTER TABLE {name} ADD CONSTRAINT fk_{name}_{column}_{target} "
                          f"FOREIGN KEY ({column}) REFERENCES {target} (id)")

    def attach_year(self, year: int) -> None:
        """Attach the year and drop the default's CHECK, whose work the partition bound now does."""
        name, (start, end) = year_table(year), _bounds(year)
        self._wait_briefly()
        if self.year_state(year) != "attached":
            self._sql(f"ALTER TABLE assessment ATTACH PARTITION {name} FOR VALUES FROM ('{start}') TO ('{end}')")
        self._sql(f"ALTER TABLE assessment_default DROP CONSTRAINT IF EXISTS {_exclusion(year)}")

    def analyze_year(self, year: int) -> None:
        """Statistics for the planner at once, not when autovacuum comes by."""
        self._sql(f"ANALYZE {year_table(year)}")
