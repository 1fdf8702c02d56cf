"""A bleep or extension to call ward staff back on (digits only, given on the staff route, never texted), and an
index for the ward's list to ask "has anything changed?" at each refresh.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('concern') as batch:
        batch.add_column(sa.Column('callback_extension', sa.String(length=8), nullable=True))
        batch.create_index('ix_concern_ward_updated_at', ['ward_id', 'updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('concern') as batch:
        batch.drop_index('ix_concern_ward_updated_at')
        batch.drop_column('callback_extension')
