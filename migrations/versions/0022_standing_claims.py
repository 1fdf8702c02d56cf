"""Raised to claimed runs to the claim that stood (docs/architecture.md#reports).

Before, a call released (or unlinked, or put back on the queue when the call it followed was cancelled)
kept its first claim's time, so the dashboard's "raised to claimed" ended the patient's wait at a claim
that did not stand. Now a call that goes back on the queue unclaimed is waiting again, and the next claim
sets the clock. This works out every past call's standing claim from the audit trail: in the call's first
episode (up to its close, cancellation or reopening, whose clocks are kept), the first claim after the
last time it went back on the queue, or none if it was never claimed again. Only calls that went back on
the queue change; their claim time becomes the time of that claim's audit row (written in the claim's
transaction, so within moments of it), and their "raised to claimed" report fact with it.

No monthly return figure reads the claim clock, so no return revision is kept (services/reports/revisions.py).
Downgrading leaves the standing claims in place: the older code reads the same columns.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 09:00:00
"""
from datetime import timedelta

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

MICROSECOND = timedelta(microseconds=1)
CLAIMED_STATUSES = ('acknowledged', 'reviewed')
EPISODE_ENDS = ('closed', 'closed_without_review', 'cancelled', 'reopened')
# What a call's audit trail says about its claim: these actions, and a linked call's followed events.
ACTIONS = ('claimed', 'released', 'unlinked', 'linked_call_followed', *EPISODE_ENDS)

concern = sa.table(
    'concern',
    sa.column('id', sa.Integer),
    sa.column('raised_at', sa.DateTime(timezone=True)),
    sa.column('acknowledged_at', sa.DateTime(timezone=True)),
    sa.column('to_acknowledge_us', sa.BigInteger),
)
audit_event = sa.table(
    'audit_event',
    sa.column('id', sa.Integer),
    sa.column('occurred_at', sa.DateTime(timezone=True)),
    sa.column('action', sa.String),
    sa.column('concern_id', sa.Integer),
    sa.column('changes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')),
)


def upgrade():
    connection = op.get_bind()
    events = connection.execute(
        sa.select(audit_event.c.concern_id, audit_event.c.occurred_at, audit_event.c.action, audit_event.c.changes)
        .where(audit_event.c.concern_id.is_not(None), audit_event.c.action.in_(ACTIONS))
        .order_by(audit_event.c.concern_id, audit_event.c.id)
    ).all()
    trails = {}
    for concern_id, occurred_at, action, changes in events:
        trails.setdefault(concern_id, []).append((occurred_at, action, changes or {}))
    for concern_id, trail in trails.items():
        went_back, standing = standing_claim(trail)
        if went_back:
            _set_claim(connection, concern_id, standing)


def standing_claim(trail):
    """(whether the call went back on the queue unclaimed in its first episode, its standing claim's time or
    None) from its audit rows in order, each (occurred_at, action, changes)."""
    went_back, standing = False, None
    for occurred_at, action, changes in trail:
        status, event = changes.get('status'), changes.get('event')
        if action in EPISODE_ENDS or (action == 'linked_call_followed' and (event == 'cancelled' or status == 'closed')):
            break
        if action == 'released' or (action in ('unlinked', 'linked_call_followed') and status == 'new'):
            went_back, standing = True, None
        elif action == 'claimed' or (action == 'linked_call_followed' and status in CLAIMED_STATUSES):
            standing = standing or occurred_at
    return went_back, standing


def _set_claim(connection, concern_id, standing):
    raised_at = connection.execute(sa.select(concern.c.raised_at).where(concern.c.id == concern_id)).scalar()
    if raised_at is None:  # the call itself was purged; its audit rows stay
        return
    connection.execute(
        concern.update()
        .where(concern.c.id == concern_id)
        .values(
            acknowledged_at=standing,
            to_acknowledge_us=None if standing is None else (standing - raised_at) // MICROSECOND,
        )
    )


def downgrade():
    pass
