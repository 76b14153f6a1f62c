"""core schema: persons, enrollments, choices, assessments, audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 10:59:06.663876

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('audit_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=128), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_type', sa.String(length=32), nullable=False),
    sa.Column('id_number_index', sa.String(length=64), nullable=False),
    sa.Column('id_number_enc', sa.LargeBinary(), nullable=False),
    sa.Column('name_enc', sa.LargeBinary(), nullable=False),
    sa.Column('phone_enc', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('id_number_index', name=op.f('uq_person_id_number_index'))
    )
    op.create_table('enrollment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('insurance', sa.String(length=16), nullable=False),
    sa.Column('region', sa.String(length=12), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('insured_number', sa.String(length=32), nullable=False),
    sa.Column('start_month', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source_bureau', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_enrollment_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment')),
    sa.UniqueConstraint('insured_number', name=op.f('uq_enrollment_insured_number'))
    )
    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrollment_person_id'), ['person_id'], unique=False)

    op.create_table('contribution_choice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('effective_month', sa.String(length=7), nullable=False),
    sa.Column('base_fen', sa.BigInteger(), nullable=True),
    sa.Column('grade_code', sa.String(length=16), nullable=True),
    sa.Column('batch_debit_allowed', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollment.id'], name=op.f('fk_contribution_choice_enrollment_id_enrollment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contribution_choice'))
    )
    with op.batch_alter_table('contribution_choice', schema=None) as batch_op:
        batch_op.create_index('uq_contribution_choice_live_month', ['enrollment_id', 'effective_month'], unique=True, postgresql_where=sa.text('voided_at IS NULL'), sqlite_where=sa.text('voided_at IS NULL'))

    op.create_table('assessment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('enrollment_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('insurance', sa.String(length=16), nullable=False),
    sa.Column('region', sa.String(length=12), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('notice_number', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('base_fen', sa.BigInteger(), nullable=True),
    sa.Column('rate', sa.String(length=16), nullable=True),
    sa.Column('grade_code', sa.String(length=16), nullable=True),
    sa.Column('choice_id', sa.Integer(), nullable=True),
    sa.Column('subsidy_fen', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('declared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['choice_id'], ['contribution_choice.id'], name=op.f('fk_assessment_choice_id_contribution_choice')),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollment.id'], name=op.f('fk_assessment_enrollment_id_enrollment')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_assessment_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment'))
    )
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_choice_id'), ['choice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_enrollment_id'), ['enrollment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_notice_number'), ['notice_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_person_id'), ['person_id'], unique=False)
        batch_op.create_index('uq_assessment_live_period', ['enrollment_id', 'period_start'], unique=True, postgresql_where=sa.text("state IN ('declared_unpaid', 'paying', 'paid') AND kind <> 'special'"), sqlite_where=sa.text("state IN ('declared_unpaid', 'paying', 'paid') AND kind <> 'special'"))



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_index('uq_assessment_live_period', postgresql_where=sa.text("state IN ('declared_unpaid', 'paying', 'paid') AND kind <> 'special'"), sqlite_where=sa.text("state IN ('declared_unpaid', 'paying', 'paid') AND kind <> 'special'"))
        batch_op.drop_index(batch_op.f('ix_assessment_person_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_notice_number'))
        batch_op.drop_index(batch_op.f('ix_assessment_enrollment_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_choice_id'))

    op.drop_table('assessment')
    with op.batch_alter_table('contribution_choice', schema=None) as batch_op:
        batch_op.drop_index('uq_contribution_choice_live_month', postgresql_where=sa.text('voided_at IS NULL'), sqlite_where=sa.text('voided_at IS NULL'))

    op.drop_table('contribution_choice')
    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrollment_person_id'))

    op.drop_table('enrollment')
    op.drop_table('person')
    op.drop_table('audit_event')
