"""money that cannot get stuck: provider calls, kept notifications, e-ticket serials

Revision ID: i11_01
Revises: 0005
Create Date: 2026-12-02 15:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'i11_01'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DUE = sa.text("state = 'pending'")


def upgrade() -> None:
    op.create_table('provider_call',
    sa.Column('id', BIG, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('order_no', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=8), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_call'))
    )
    op.create_index('uq_provider_call_kind_key', 'provider_call', ['kind', 'key'], unique=True)
    op.create_index(op.f('ix_provider_call_order_no'), 'provider_call', ['order_no'], unique=False)
    op.create_index('ix_provider_call_due', 'provider_call', ['next_attempt_at'], unique=False,
                    postgresql_where=DUE, sqlite_where=DUE)
    op.create_index('ix_provider_call_exceptions', 'provider_call', ['state', 'updated_at'], unique=False)
    with op.batch_alter_table('notification_log') as batch:
        batch.add_column(sa.Column('body', sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE e_ticket_serial")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE e_ticket_serial")
    with op.batch_alter_table('notification_log') as batch:
        batch.drop_column('body')
    op.drop_index('ix_provider_call_exceptions', table_name='provider_call')
    op.drop_index('ix_provider_call_due', table_name='provider_call')
    op.drop_index(op.f('ix_provider_call_order_no'), table_name='provider_call')
    op.drop_index('uq_provider_call_kind_key', table_name='provider_call')
    op.drop_table('provider_call')
