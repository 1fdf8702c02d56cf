"""The queue reads a small partial index of open calls; its "anything new?" check reads the
latest change per team or site.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OPEN = "status IN ('new', 'acknowledged', 'reviewed')"


def upgrade():
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.create_index('ix_concern_site_updated_at', ['site_id', 'updated_at'], unique=False)
        batch_op.create_index('ix_concern_open_team', ['team_id', 'raised_at'], unique=False,
                              sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade():
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.drop_index('ix_concern_open_team')
        batch_op.drop_index('ix_concern_site_updated_at')
