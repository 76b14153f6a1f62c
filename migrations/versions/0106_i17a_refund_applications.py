"""refund applications (社保费退费申请) and the assessments they hold

Revision ID: i17a_01
Revises: i17b_02
Create Date: 2026-12-03 08:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'i17a_01'
down_revision: Union[str, Sequence[str], None] = 'i17b_02'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('refund_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_no', sa.String(length=32), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('applicant_account_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('insurance', sa.String(length=16), nullable=False),
    sa.Column('reason_type', sa.String(length=32), nullable=False),
    sa.Column('reason_text', sa.String(length=400), nullable=False),
    sa.Column('bank_account_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('accepted_by', sa.String(length=64), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_reason', sa.String(length=400), nullable=True),
    sa.Column('payouts', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_refund_application_person_id_person')),
    sa.ForeignKeyConstraint(['bank_account_id'], ['bank_account.id'],
                            name=op.f('fk_refund_application_bank_account_id_bank_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_application')),
    sa.UniqueConstraint('application_no', name=op.f('uq_refund_application_application_no'))
    )
    op.create_index(op.f('ix_refund_application_person_id'), 'refund_application', ['person_id'], unique=False)
    op.create_index(op.f('ix_refund_application_state'), 'refund_application', ['state'], unique=False)
    op.create_table('refund_application_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_no', sa.String(length=32), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('live', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['refund_application.id'],
                            name=op.f('fk_refund_application_item_application_id_refund_application')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'],
                            name=op.f('fk_refund_application_item_assessment_id_assessment')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_refund_application_item_payment_id_payment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_application_item'))
    )
    op.create_index(op.f('ix_refund_application_item_application_id'), 'refund_application_item',
                    ['application_id'], unique=False)
    op.create_index('uq_refund_application_item_live_assessment', 'refund_application_item', ['assessment_id'],
                    unique=True, postgresql_where=sa.text('live'), sqlite_where=sa.text('live'))


def downgrade() -> None:
    op.drop_index('uq_refund_application_item_live_assessment', table_name='refund_application_item')
    op.drop_index(op.f('ix_refund_application_item_application_id'), table_name='refund_application_item')
    op.drop_table('refund_application_item')
    op.drop_index(op.f('ix_refund_application_state'), table_name='refund_application')
    op.drop_index(op.f('ix_refund_application_person_id'), table_name='refund_application')
    op.drop_table('refund_application')
