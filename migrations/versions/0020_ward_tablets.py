"""Ward tablets are enrolled devices now, not a ward-wide setting: the old "kiosk by default" ward setting keeps
working for 30 days after this upgrade (or until the ward's tablet is enrolled), so no ward tablet suddenly loses
kiosk mode.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 08:00:00
"""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

GRACE = timedelta(days=30)


def upgrade():
    with op.batch_alter_table('settings') as batch:
        batch.add_column(sa.Column('kiosk_default_until', sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    legacy = bind.execute(sa.text('SELECT count(*) FROM ward WHERE kiosk_default')).scalar()
    if legacy:
        until = datetime.now(timezone.utc) + GRACE
        if bind.dialect.name == 'sqlite':
            until = until.replace(tzinfo=None)  # the app's UTC column stores naive UTC on SQLite
        bind.execute(sa.text('UPDATE settings SET kiosk_default_until = :until'), {'until': until})


def downgrade():
    with op.batch_alter_table('settings') as batch:
        batch.drop_column('kiosk_default_until')
