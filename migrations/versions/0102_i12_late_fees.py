"""late fees: an order item's 滞纳金, and payments of kind fee or late_fee

Revision ID: i12_01
Revises: i11r_01
Create Date: 2026-12-02 15:00:00.000000

An assessment's late fee is posted as its own payment (its own e-ticket number), so a payment
is unique per assessment and kind instead of per assessment.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'i12_01'
down_revision: Union[str, Sequence[str], None] = 'i11r_01'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('order_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('late_fee_fen', sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='fee', nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_payment_assessment_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_payment_assessment_id_kind'), ['assessment_id', 'kind'])


def downgrade() -> None:
    """Downgrade schema (late-fee payments must be gone first: one payment per assessment again)."""
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_payment_assessment_id_kind'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_payment_assessment_id'), ['assessment_id'])
        batch_op.drop_column('kind')
    with op.batch_alter_table('order_item', schema=None) as batch_op:
        batch_op.drop_column('late_fee_fen')
