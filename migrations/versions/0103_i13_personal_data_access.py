"""personal data access log: every read of a person's decrypted data, append-only

Revision ID: i13_01
Revises: i16_01
Create Date: 2026-12-02 15:00:00.000000

On PostgreSQL a trigger refuses UPDATE and DELETE on the table, so even the application's
own role cannot rewrite what it read; SQLite (the zero-setup run) gets the same rule as
triggers that raise.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = 'i13_01'
down_revision: Union[str, Sequence[str], None] = 'i16_01'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PG_FUNCTION = """
CREATE FUNCTION personal_data_access_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'personal_data_access is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
"""
PG_TRIGGER = """
CREATE TRIGGER personal_data_access_append_only BEFORE UPDATE OR DELETE ON personal_data_access
FOR EACH ROW EXECUTE FUNCTION personal_data_access_append_only()
"""


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('personal_data_access',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('fields', sa.String(length=128), nullable=False),
    sa.Column('accessor_kind', sa.String(length=32), nullable=False),
    sa.Column('accessor', sa.String(length=160), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('client_ip', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_access'))
    )
    op.create_index(op.f('ix_personal_data_access_person_id'), 'personal_data_access', ['person_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER personal_data_access_no_{action.lower()} BEFORE {action} "
                       f"ON personal_data_access BEGIN SELECT RAISE(ABORT, 'personal_data_access is append-only'); END")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER personal_data_access_append_only ON personal_data_access")
        op.execute("DROP FUNCTION personal_data_access_append_only()")
    op.drop_index(op.f('ix_personal_data_access_person_id'), table_name='personal_data_access')
    op.drop_table('personal_data_access')
