"""timestamps in UTC on SQLite too

SQLite keeps no offset: moments used to be written as Beijing wall time and read back as if
they were UTC, eight hours off. From now on every timestamp is stored as UTC
(``app/adapters/utc_datetime.py``); this moves the rows already there. PostgreSQL's
timestamptz always kept the instant: nothing to do there. (The calls i11_02 backfilled on SQLite
were stamped in UTC already; moving them 8 hours earlier only makes them due at once.)

Revision ID: i14_01
Revises: i12_01
Create Date: 2026-12-02 15:00:00.000000

"""
from typing import Sequence, Union

from alembic import op

revision: str = "i14_01"
down_revision: Union[str, Sequence[str], None] = "i12_01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# the timestamp columns as of revision i12_01
COLUMNS = {
    "audit_event": ("at",), "bulk_progress": ("started_at", "updated_at", "finished_at"),
    "notification_log": ("received_at",), "person": ("created_at",), "certificate": ("issued_at",),
    "channel_identity": ("created_at", "updated_at"), "enrollment": ("created_at",),
    "payment_order": ("created_at", "expires_at", "paid_at", "posted_at", "closed_at"),
    "contribution_choice": ("created_at", "voided_at"), "refund": ("created_at", "finished_at"),
    "assessment": ("declared_at", "paid_at"), "payment": ("posted_at",),
    "provider_call": ("next_attempt_at", "created_at", "updated_at", "finished_at"),
    "reconciliation_run": ("started_at", "finished_at"), "reconciliation_difference": ("found_at", "resolved_at"),
}


def _shift(hours: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in COLUMNS.items():
        for column in columns:
            op.execute(f"UPDATE {table} SET {column} = strftime('%Y-%m-%d %H:%M:%f', {column}, '{hours} hours') "
                       f"WHERE {column} IS NOT NULL")


def upgrade() -> None:
    _shift("-8")


def downgrade() -> None:
    _shift("+8")
