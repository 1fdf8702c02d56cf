"""One received text is kept once: a unique index on an inbound event's token (the provider's id for the text), so
deliveries of one text at the same moment cannot each add a note or a call (docs/architecture.md#messages).

Overlapping deliveries could already have been kept twice: the later rows keep everything but their token (the
earliest of each keeps it), so the index can be built and nothing received is deleted. Downgrading drops the index;
the cleared tokens stay cleared (they only ever told a repeat apart).

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-04 17:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

INBOUND_ONLY = "kind = 'inbound'"


def upgrade():
    op.execute(
        "UPDATE message_event SET idempotency_token = NULL WHERE kind = 'inbound' AND idempotency_token IS NOT NULL "
        "AND id > (SELECT MIN(first.id) FROM message_event AS first "
        "WHERE first.kind = 'inbound' AND first.idempotency_token = message_event.idempotency_token)"
    )
    op.create_index(
        'uq_message_event_inbound_token',
        'message_event',
        ['idempotency_token'],
        unique=True,
        sqlite_where=sa.text(INBOUND_ONLY),
        postgresql_where=sa.text(INBOUND_ONLY),
    )


def downgrade():
    op.drop_index('uq_message_event_inbound_token', table_name='message_event')
