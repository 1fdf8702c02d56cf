"""Identical repeats found by one indexed lookup: concern.repeat_key

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

Concerns raised before this migration have no key, so a repeat of one of them within the merge
window (30 minutes) is taken as a new concern: the safe side.
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.add_column(sa.Column('repeat_key', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_concern_ward_repeat_key', ['ward_id', 'repeat_key'], unique=False)


def downgrade():
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.drop_index('ix_concern_ward_repeat_key')
        batch_op.drop_column('repeat_key')
