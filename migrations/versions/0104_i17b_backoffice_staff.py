"""back office: staff accounts and the staff action log

The action log is append-only like the personal-data access log: on PostgreSQL a trigger
refuses UPDATE and DELETE (SQLite: one trigger each).

Revision ID: i17b_01
Revises: i15_01
Create Date: 2026-12-03 08:00:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "i17b_01"
down_revision: Union[str, Sequence[str], None] = "i15_01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PG_FUNCTION = """
CREATE FUNCTION staff_action_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'staff_action is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$
"""
PG_TRIGGER = """
CREATE TRIGGER staff_action_append_only BEFORE UPDATE OR DELETE ON staff_action
FOR EACH ROW EXECUTE FUNCTION staff_action_append_only()
"""


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "staff_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("totp_secret_enc", sa.LargeBinary(), nullable=False),
        sa.Column("last_totp_step", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("roles", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_account")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_account_username")),
    )
    op.create_table(
        "staff_action",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=160), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_action")),
    )
    op.create_index(op.f("ix_staff_action_actor"), "staff_action", ["actor"], unique=False)
    op.create_index(op.f("ix_staff_action_target"), "staff_action", ["target"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER staff_action_no_{action.lower()} BEFORE {action} "
                       f"ON staff_action BEGIN SELECT RAISE(ABORT, 'staff_action is append-only'); END")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER staff_action_append_only ON staff_action")
        op.execute("DROP FUNCTION staff_action_append_only()")
    op.drop_index(op.f("ix_staff_action_target"), table_name="staff_action")
    op.drop_index(op.f("ix_staff_action_actor"), table_name="staff_action")
    op.drop_table("staff_action")
    op.drop_table("staff_account")
