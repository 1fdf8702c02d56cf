"""The queue's follow-up texts (a caller's text after the call ended, not yet read) from two small partial indexes,
by team and by site, instead of reading every closed call of the team (docs/architecture.md#the-queue).

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-04 20:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None

UNREAD_REPLY = "unread_reply = true"  # tracker.models.UNREAD_REPLY_SQL: a query uses the index only when it says this


def upgrade():
    for scope in ('team', 'site'):
        op.create_index(
            f'ix_concern_unread_reply_{scope}',
            'concern',
            [f'{scope}_id', 'updated_at'],
            sqlite_where=sa.text(UNREAD_REPLY),
            postgresql_where=sa.text(UNREAD_REPLY),
        )


def downgrade():
    for scope in ('team', 'site'):
        op.drop_index(f'ix_concern_unread_reply_{scope}', table_name='concern')
