"""payment certificates (完税（费）证明) and their items

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('certificate',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('certificate_no', sa.String(length=32), nullable=False),
    sa.Column('verification_code', sa.String(length=16), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_person_id', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=12), nullable=False),
    sa.Column('tax_authority', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reissue_of', BIG_ID, nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_certificate_person_id_person')),
    sa.ForeignKeyConstraint(['requested_by_person_id'], ['person.id'],
                            name=op.f('fk_certificate_requested_by_person_id_person')),
    sa.ForeignKeyConstraint(['reissue_of'], ['certificate.id'], name=op.f('fk_certificate_reissue_of_certificate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('certificate_no', name=op.f('uq_certificate_certificate_no'))
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_issued_at'), ['issued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_reissue_of'), ['reissue_of'], unique=False)

    op.create_table('certificate_item',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('certificate_id', BIG_ID, nullable=False),
    sa.Column('payment_id', BIG_ID, nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('original', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'],
                            name=op.f('fk_certificate_item_certificate_id_certificate')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_certificate_item_payment_id_payment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_item'))
    )
    with op.batch_alter_table('certificate_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_item_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index('uq_certificate_item_original_payment', ['payment_id'], unique=True,
                              postgresql_where=sa.text('original'), sqlite_where=sa.text('original'))

    # looking back reads a person's orders as the insured person and as the payer
    with op.batch_alter_table('order_item', schema=None) as batch_op:
        batch_op.create_index('ix_order_item_person_id', ['person_id'], unique=False)
    with op.batch_alter_table('payment_order', schema=None) as batch_op:
        batch_op.create_index('ix_payment_order_payer_person_id', ['payer_person_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('payment_order', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_order_payer_person_id')
    with op.batch_alter_table('order_item', schema=None) as batch_op:
        batch_op.drop_index('ix_order_item_person_id')

    with op.batch_alter_table('certificate_item', schema=None) as batch_op:
        batch_op.drop_index('uq_certificate_item_original_payment', postgresql_where=sa.text('original'),
                            sqlite_where=sa.text('original'))
        batch_op.drop_index(batch_op.f('ix_certificate_item_certificate_id'))

    op.drop_table('certificate_item')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_reissue_of'))
        batch_op.drop_index(batch_op.f('ix_certificate_issued_at'))
        batch_op.drop_index(batch_op.f('ix_certificate_person_id'))

    op.drop_table('certificate')
