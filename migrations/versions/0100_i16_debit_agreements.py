"""debit agreements, payment passwords and batch debit

Revision ID: i16_01
Revises: i14_01
Create Date: 2026-12-02 14:47:55.965369

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'i16_01'
down_revision: Union[str, Sequence[str], None] = 'i14_01'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('debit_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_key', sa.String(length=64), nullable=False),
    sa.Column('file_id', sa.String(length=40), nullable=False),
    sa.Column('region', sa.String(length=12), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('sum_fen', sa.BigInteger(), nullable=False),
    sa.Column('collected_through', sa.BigInteger(), nullable=False),
    sa.Column('posted_through', sa.BigInteger(), nullable=False),
    sa.Column('succeeded_count', sa.Integer(), nullable=False),
    sa.Column('succeeded_fen', sa.BigInteger(), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('pending_count', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debit_batch')),
    sa.UniqueConstraint('batch_key', name=op.f('uq_debit_batch_batch_key')),
    sa.UniqueConstraint('file_id', name=op.f('uq_debit_batch_file_id'))
    )
    op.create_table('bank_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('payer_account_id', sa.Integer(), nullable=True),
    sa.Column('bank_code', sa.String(length=8), nullable=False),
    sa.Column('account_kind', sa.String(length=16), nullable=False),
    sa.Column('account_no_index', sa.String(length=64), nullable=False),
    sa.Column('account_no_enc', sa.LargeBinary(), nullable=False),
    sa.Column('holder_name_enc', sa.LargeBinary(), nullable=False),
    sa.Column('holder_is_other', sa.Boolean(), nullable=False),
    sa.Column('holder_id_type', sa.String(length=32), nullable=True),
    sa.Column('holder_id_number_enc', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_bank_account_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_account'))
    )
    with op.batch_alter_table('bank_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_account_person_id'), ['person_id'], unique=False)
        batch_op.create_index('uq_bank_account_live_number', ['person_id', 'account_no_index'], unique=True, postgresql_where=sa.text('removed_at IS NULL'), sqlite_where=sa.text('removed_at IS NULL'))

    op.create_table('payment_password',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('code_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('code_attempts', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_payment_password_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_password')),
    sa.UniqueConstraint('person_id', name=op.f('uq_payment_password_person_id'))
    )
    op.create_table('debit_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payer_person_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('bank_account_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('request_id', sa.String(length=40), nullable=False),
    sa.Column('agreement_no', sa.String(length=40), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('auto_pay', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bank_account_id'], ['bank_account.id'], name=op.f('fk_debit_agreement_bank_account_id_bank_account')),
    sa.ForeignKeyConstraint(['payer_person_id'], ['person.id'], name=op.f('fk_debit_agreement_payer_person_id_person')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_debit_agreement_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debit_agreement')),
    sa.UniqueConstraint('request_id', name=op.f('uq_debit_agreement_request_id'))
    )
    with op.batch_alter_table('debit_agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debit_agreement_agreement_no'), ['agreement_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_debit_agreement_payer_person_id'), ['payer_person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_debit_agreement_person_id'), ['person_id'], unique=False)
        batch_op.create_index('uq_debit_agreement_auto_pay', ['person_id'], unique=True, postgresql_where=sa.text("auto_pay AND state IN ('verifying', 'active')"), sqlite_where=sa.text("auto_pay AND state IN ('verifying', 'active')"))

    op.create_table('debit_agreement_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['debit_agreement.id'], name=op.f('fk_debit_agreement_event_agreement_id_debit_agreement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debit_agreement_event'))
    )
    with op.batch_alter_table('debit_agreement_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debit_agreement_event_agreement_id'), ['agreement_id'], unique=False)

    op.create_table('debit_batch_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('line_key', sa.String(length=32), nullable=False),
    sa.Column('assessment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('agreement_no', sa.String(length=40), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('result_code', sa.String(length=8), nullable=True),
    sa.Column('reason', sa.String(length=100), nullable=True),
    sa.Column('bank_txn_no', sa.String(length=40), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], name=op.f('fk_debit_batch_line_assessment_id_assessment')),
    sa.ForeignKeyConstraint(['batch_id'], ['debit_batch.id'], name=op.f('fk_debit_batch_line_batch_id_debit_batch')),
    sa.ForeignKeyConstraint(['order_id'], ['payment_order.id'], name=op.f('fk_debit_batch_line_order_id_payment_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debit_batch_line')),
    sa.UniqueConstraint('line_key', name=op.f('uq_debit_batch_line_line_key'))
    )
    with op.batch_alter_table('debit_batch_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debit_batch_line_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_debit_batch_line_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_debit_batch_line_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('debit_batch_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debit_batch_line_person_id'))
        batch_op.drop_index(batch_op.f('ix_debit_batch_line_order_id'))
        batch_op.drop_index(batch_op.f('ix_debit_batch_line_batch_id'))

    op.drop_table('debit_batch_line')
    with op.batch_alter_table('debit_agreement_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debit_agreement_event_agreement_id'))

    op.drop_table('debit_agreement_event')
    with op.batch_alter_table('debit_agreement', schema=None) as batch_op:
        batch_op.drop_index('uq_debit_agreement_auto_pay', postgresql_where=sa.text("auto_pay AND state IN ('verifying', 'active')"), sqlite_where=sa.text("auto_pay AND state IN ('verifying', 'active')"))
        batch_op.drop_index(batch_op.f('ix_debit_agreement_person_id'))
        batch_op.drop_index(batch_op.f('ix_debit_agreement_payer_person_id'))
        batch_op.drop_index(batch_op.f('ix_debit_agreement_agreement_no'))

    op.drop_table('debit_agreement')
    op.drop_table('payment_password')
    with op.batch_alter_table('bank_account', schema=None) as batch_op:
        batch_op.drop_index('uq_bank_account_live_number', postgresql_where=sa.text('removed_at IS NULL'), sqlite_where=sa.text('removed_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_bank_account_person_id'))

    op.drop_table('bank_account')
    op.drop_table('debit_batch')
