"""accounts: natural persons' accounts for the tax app and the web e-tax bureau, and their consents

Revision ID: i15_01
Revises: i13_01
Create Date: 2026-12-02 15:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'i15_01'
down_revision: Union[str, Sequence[str], None] = 'i13_01'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=32), nullable=False),
    sa.Column('id_type', sa.String(length=32), nullable=False),
    sa.Column('id_number_index', sa.String(length=64), nullable=False),
    sa.Column('id_number_enc', sa.LargeBinary(), nullable=False),
    sa.Column('name_enc', sa.LargeBinary(), nullable=False),
    sa.Column('gender', sa.String(length=8), nullable=False),
    sa.Column('nationality', sa.String(length=3), nullable=False),
    sa.Column('phone_index', sa.String(length=64), nullable=True),
    sa.Column('phone_enc', sa.LargeBinary(), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('verified_by', sa.String(length=40), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('consent_version', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_account_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('username', name=op.f('uq_account_username')),
    sa.UniqueConstraint('id_number_index', name=op.f('uq_account_id_number_index')),
    sa.UniqueConstraint('phone_index', name=op.f('uq_account_phone_index'))
    )
    op.create_index(op.f('ix_account_person_id'), 'account', ['person_id'], unique=False)
    op.create_table('account_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('document', sa.String(length=32), nullable=False),
    sa.Column('version', sa.String(length=16), nullable=False),
    sa.Column('agreed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_account_consent_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_consent'))
    )
    op.create_index(op.f('ix_account_consent_account_id'), 'account_consent', ['account_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_account_consent_account_id'), table_name='account_consent')
    op.drop_table('account_consent')
    op.drop_index(op.f('ix_account_person_id'), table_name='account')
    op.drop_table('account')
