"""stories: one Slack thread per development, its state, mute and not-news

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 06:20:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('stories',
    sa.Column('development_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('rule_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('state', sa.JSON(), nullable=True),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('thread_ts', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('message_ts', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('shown_version', sa.Integer(), nullable=False),
    sa.Column('mute_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('muted_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('muted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dismissed', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('dismissed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('dismissed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('inbox_file', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('development_id')
    )
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stories_thread_ts'), ['thread_ts'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stories_thread_ts'))
    op.drop_table('stories')
