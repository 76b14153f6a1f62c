"""bulk job progress: where the yearly resident declaration has got to

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('bulk_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_key', sa.String(length=64), nullable=False),
    sa.Column('last_enrollment_id', sa.Integer(), nullable=False),
    sa.Column('created_count', sa.BigInteger(), nullable=False),
    sa.Column('chunk_count', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_progress')),
    sa.UniqueConstraint('job_key', name=op.f('uq_bulk_progress_job_key'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('bulk_progress')
