"""assessments partitioned by year on PostgreSQL; what points at an assessment carries its period_start

Revision ID: i18_01
Revises: i17a_01
Create Date: 2026-12-03 15:00:00.000000

The yearly bulk declaration builds a year's assessments in a table of their own and attaches it
as a partition (see app/adapters/bulk_partition.py). So on PostgreSQL ``assessment`` becomes a
table partitioned by range of ``period_start``, whose one DEFAULT partition ``assessment_default``
is the old table, renamed: no row moves. A partitioned table's unique keys must include the
partition key, so the primary key becomes (id, period_start) (the id stays unique: one sequence
gives them all), and the four tables pointing at an assessment (order_item, payment,
debit_batch_line, refund_application_item) carry ``assessment_period_start`` in a composite
foreign key. The old table's indexes and foreign keys are kept and adopted by the partitioned
table, so the attach builds nothing but the new primary key.

SQLite (``make run``) has no partitions: it gets the column, filled the same way, and keeps its
foreign key on the id alone. ``bulk_progress.phase`` records the step a year built apart is at,
``workers`` the stripes it is filled in.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'i18_01'
down_revision: Union[str, Sequence[str], None] = 'i17a_01'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

POINTING = ("order_item", "payment", "debit_batch_line", "refund_application_item")
# the old table's indexes: their names go to the partitioned table, the default partition's get a prefix
INDEXES = ("ix_assessment_choice_id", "ix_assessment_enrollment_id", "ix_assessment_notice_number",
           "ix_assessment_person_id", "uq_assessment_live_period")
LIVE = "state IN ('declared_unpaid', 'paying', 'paid') AND kind <> 'special'"


def _default_name(index: str) -> str:
    return index.replace("_assessment_", "_assessment_default_", 1)


def _add_period_column() -> None:
    for table in POINTING:
        op.add_column(table, sa.Column("assessment_period_start", sa.Date(), nullable=True))
        op.execute(f"UPDATE {table} SET assessment_period_start = "
                   f"(SELECT a.period_start FROM assessment a WHERE a.id = {table}.assessment_id)")


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("bulk_progress", sa.Column("phase", sa.String(length=32), nullable=True))
    op.add_column("bulk_progress", sa.Column("workers", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        _add_period_column()
        for table in POINTING:
            with op.batch_alter_table(table) as batch:
                batch.alter_column("assessment_period_start", existing_type=sa.Date(), nullable=False)
        return
    _add_period_column()
    for table in POINTING:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN assessment_period_start SET NOT NULL")
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT fk_{table}_assessment_id_assessment")
    op.execute("ALTER TABLE assessment RENAME TO assessment_default")
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} RENAME TO {_default_name(index)}")
    op.execute("ALTER TABLE assessment_default DROP CONSTRAINT pk_assessment")
    op.execute("ALTER TABLE assessment_default ADD CONSTRAINT pk_assessment_default PRIMARY KEY (id, period_start)")
    op.execute("CREATE TABLE assessment (LIKE assessment_default INCLUDING DEFAULTS) PARTITION BY RANGE (period_start)")
    op.execute("ALTER SEQUENCE assessment_id_seq OWNED BY assessment.id")
    op.execute("ALTER TABLE assessment ADD CONSTRAINT pk_assessment PRIMARY KEY (id, period_start)")
    for column in ("choice_id", "enrollment_id", "notice_number", "person_id"):
        op.execute(f"CREATE INDEX ix_assessment_{column} ON assessment ({column})")
    op.execute(f"CREATE UNIQUE INDEX uq_assessment_live_period ON assessment (enrollment_id, period_start) WHERE {LIVE}")
    for column, target in (("enrollment_id", "enrollment"), ("person_id", "person"),
                           ("choice_id", "contribution_choice")):
        op.execute(f"ALTER TABLE assessment ADD CONSTRAINT fk_assessment_{column}_{target} "
                   f"FOREIGN KEY ({column}) REFERENCES {target} (id)")
    # adopts the default's indexes and foreign keys (same definitions): nothing is built or checked again
    op.execute("ALTER TABLE assessment ATTACH PARTITION assessment_default DEFAULT")
    for table in POINTING:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_assessment_id_assessment "
                   f"FOREIGN KEY (assessment_id, assessment_period_start) REFERENCES assessment (id, period_start)")


def downgrade() -> None:
    """Downgrade schema: every year partition's rows go back into the one table."""
    bind = op.get_bind()
    with op.batch_alter_table("bulk_progress") as batch:
        batch.drop_column("phase")
        batch.drop_column("workers")
    if bind.dialect.name != "postgresql":
        for table in POINTING:
            with op.batch_alter_table(table) as batch:
                batch.drop_column("assessment_period_start")
        return
    for table in POINTING:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT fk_{table}_assessment_id_assessment")
    op.execute("ALTER TABLE assessment DETACH PARTITION assessment_default")
    years = bind.execute(sa.text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                 "WHERE i.inhparent = 'assessment'::regclass")).scalars().all()
    columns = ", ".join(bind.execute(sa.text(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'assessment_default'::regclass AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum")).scalars())
    for year in years:
        op.execute(f"INSERT INTO assessment_default ({columns}) SELECT {columns} FROM {year}")
    op.execute("ALTER SEQUENCE assessment_id_seq OWNED BY assessment_default.id")
    op.execute("DROP TABLE assessment")  # and its year partitions, emptied above
    op.execute("ALTER TABLE assessment_default RENAME TO assessment")
    op.execute("ALTER TABLE assessment DROP CONSTRAINT pk_assessment_default")
    op.execute("ALTER TABLE assessment ADD CONSTRAINT pk_assessment PRIMARY KEY (id)")
    for index in INDEXES:
        op.execute(f"ALTER INDEX {_default_name(index)} RENAME TO {index}")
    for table in POINTING:
        op.execute(f"ALTER TABLE {table} DROP COLUMN assessment_period_start")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_assessment_id_assessment "
                   f"FOREIGN KEY (assessment_id) REFERENCES assessment (id)")
