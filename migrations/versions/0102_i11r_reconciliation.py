"""reconciliation: runs per day and provider, their differences, and the indexes a day's read needs

Revision ID: i11r_01
Revises: i11_02
Create Date: 2026-12-02 15:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'i11r_01'
down_revision: Union[str, Sequence[str], None] = 'i11_02'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('reconciliation_run',
    sa.Column('id', _ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('statement_payment_count', sa.BigInteger(), nullable=False),
    sa.Column('statement_payment_fen', sa.BigInteger(), nullable=False),
    sa.Column('statement_refund_count', sa.BigInteger(), nullable=False),
    sa.Column('statement_refund_fen', sa.BigInteger(), nullable=False),
    sa.Column('our_payment_count', sa.BigInteger(), nullable=False),
    sa.Column('our_payment_fen', sa.BigInteger(), nullable=False),
    sa.Column('our_refund_count', sa.BigInteger(), nullable=False),
    sa.Column('our_refund_fen', sa.BigInteger(), nullable=False),
    sa.Column('difference_count', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_run'))
    )
    op.create_index('uq_reconciliation_run_day_provider', 'reconciliation_run', ['day', 'provider'], unique=True)
    op.create_table('reconciliation_difference',
    sa.Column('id', _ID, nullable=False),
    sa.Column('run_id', _ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('order_no', sa.String(length=64), nullable=True),
    sa.Column('refund_no', sa.String(length=64), nullable=True),
    sa.Column('provider_amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('our_amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolution_note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['reconciliation_run.id'],
                            name=op.f('fk_reconciliation_difference_run_id_reconciliation_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_difference'))
    )
    op.create_index(op.f('ix_reconciliation_difference_run_id'), 'reconciliation_difference', ['run_id'],
                    unique=False)
    op.create_index('uq_reconciliation_difference_key', 'reconciliation_difference', ['provider', 'day', 'key'],
                    unique=True)
    op.create_index('ix_payment_order_provider_paid_at', 'payment_order', ['provider', 'paid_at'], unique=False)
    op.create_index('ix_refund_created_at', 'refund', ['created_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_refund_created_at', table_name='refund')
    op.drop_index('ix_payment_order_provider_paid_at', table_name='payment_order')
    op.drop_index('uq_reconciliation_difference_key', table_name='reconciliation_difference')
    op.drop_index(op.f('ix_reconciliation_difference_run_id'), table_name='reconciliation_difference')
    op.drop_table('reconciliation_difference')
    op.drop_index('uq_reconciliation_run_day_provider', table_name='reconciliation_run')
    op.drop_table('reconciliation_run')
