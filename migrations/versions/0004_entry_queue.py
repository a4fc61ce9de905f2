"""entry queue: fresh entries before backlog, in publication order, from one index (issue 17)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 08:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('backlog', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.execute("UPDATE entries SET queue_at = COALESCE(published, seen_at)")
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index('ix_entries_queue', ['state', 'backlog', 'queue_at', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index('ix_entries_queue')
        batch_op.drop_column('backlog')
        batch_op.drop_column('queue_at')
