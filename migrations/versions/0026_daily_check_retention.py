"""Daily-check retention (docs/architecture.md#retention): when an answer's or an occupancy's name and free text
were destroyed, and an index to find a call's linked answers when the call is purged.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('daily_check_answer') as batch:
        batch.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('bed_occupancy') as batch:
        batch.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_daily_check_answer_concern_id'), 'daily_check_answer', ['concern_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_daily_check_answer_concern_id'), table_name='daily_check_answer')
    with op.batch_alter_table('bed_occupancy') as batch:
        batch.drop_column('purged_at')
    with op.batch_alter_table('daily_check_answer') as batch:
        batch.drop_column('purged_at')
