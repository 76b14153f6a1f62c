"""back office: resolved exceptions, reminders sent and opt-outs

Revision ID: i17b_02
Revises: i17b_01
Create Date: 2026-12-03 08:30:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "i17b_02"
down_revision: Union[str, Sequence[str], None] = "i17b_01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "backoffice_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backoffice_case")),
        sa.UniqueConstraint("kind", "key", name="uq_backoffice_case_kind_key"),
    )
    op.create_table(
        "reminder",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder")),
        sa.UniqueConstraint("kind", "key", name="uq_reminder_kind_key"),
    )
    op.create_index(op.f("ix_reminder_person_id"), "reminder", ["person_id"], unique=False)
    op.create_table(
        "reminder_opt_out",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("via", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_reminder_opt_out")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("reminder_opt_out")
    op.drop_index(op.f("ix_reminder_person_id"), table_name="reminder")
    op.drop_table("reminder")
    op.drop_table("backoffice_case")
