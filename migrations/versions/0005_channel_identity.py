"""channel identity: which person a channel user said was themself

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('channel_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('channel_user', sa.String(length=128), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_channel_identity_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_identity'))
    )
    op.create_index(op.f('ix_channel_identity_person_id'), 'channel_identity', ['person_id'], unique=False)
    op.create_index('uq_channel_identity_channel_user', 'channel_identity', ['channel', 'channel_user'], unique=True)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('uq_channel_identity_channel_user', table_name='channel_identity')
    op.drop_index(op.f('ix_channel_identity_person_id'), table_name='channel_identity')
    op.drop_table('channel_identity')
