"""When a call was first opened by staff: until then a new call is marked "New arrival" at the top of the queue.
Existing calls take the time of their first "viewed" audit event; a call nobody has opened yet stays marked.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 17:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('concern') as batch:
        batch.add_column(sa.Column('first_opened_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE concern SET first_opened_at = (SELECT MIN(a.occurred_at) FROM audit_event a "
        "WHERE a.concern_id = concern.id AND a.action = 'viewed')"
    )


def downgrade():
    with op.batch_alter_table('concern') as batch:
        batch.drop_column('first_opened_at')
