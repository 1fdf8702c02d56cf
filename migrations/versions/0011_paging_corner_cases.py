"""Paging's corner cases: a ceiling on how long ACKs may hold one call's paging (every existing
policy gets the default, 10 minutes, or its own pause where that was longer), when a call's first
ACK came (the ceiling is counted from it), and when a call was reopened (backfilled from the audit
trail; a reopened call still waiting for its new review gets its reminder from then).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:00:00
"""
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('escalation_policy') as batch:
        batch.add_column(sa.Column('ack_ceiling_minutes', sa.Integer(), nullable=False, server_default='10'))
    # A policy whose pause was longer than the new default ceiling keeps its pause as its ceiling,
    # so no ACK reply ever promises a longer pause than paging will honour.
    op.execute('UPDATE escalation_policy SET ack_ceiling_minutes = ack_pause_minutes WHERE ack_pause_minutes > 10')
    with op.batch_alter_table('concern') as batch:
        batch.add_column(sa.Column('first_ack_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True))
    _backfill_reopened_at()


def _backfill_reopened_at():
    connection = op.get_bind()
    connection.execute(sa.text(
        "UPDATE concern SET reopened_at = (SELECT MAX(a.occurred_at) FROM audit_event a "
        "WHERE a.concern_id = concern.id AND a.action = 'reopened') "
        "WHERE EXISTS (SELECT 1 FROM audit_event a WHERE a.concern_id = concern.id AND a.action = 'reopened')"
    ))
    # Reopened and not yet reviewed again: the reminder the old code never sent is due from the
    # reopening, by the team's target (at once, if that has passed).
    concern = sa.table(
        'concern',
        sa.column('id', sa.Integer),
        sa.column('team_id', sa.Integer),
        sa.column('status', sa.String),
        sa.column('reopened_at', sa.DateTime(timezone=True)),
        sa.column('review_nudges', sa.Integer),
        sa.column('next_review_nudge_at', sa.DateTime(timezone=True)),
    )
    team = sa.table('team', sa.column('id', sa.Integer), sa.column('review_target_minutes', sa.Integer))
    waiting = connection.execute(
        sa.select(concern.c.id, concern.c.reopened_at, team.c.review_target_minutes)
        .join(team, team.c.id == concern.c.team_id)
        .where(
            concern.c.reopened_at.is_not(None),
            concern.c.status == 'acknowledged',
            concern.c.next_review_nudge_at.is_(None),
        )
    ).all()
    for concern_id, reopened_at, target in waiting:
        connection.execute(
            concern.update()
            .where(concern.c.id == concern_id)
            .values(review_nudges=0, next_review_nudge_at=reopened_at + timedelta(minutes=target))
        )


def downgrade():
    with op.batch_alter_table('concern') as batch:
        batch.drop_column('reopened_at')
        batch.drop_column('first_ack_at')
    with op.batch_alter_table('escalation_policy') as batch:
        batch.drop_column('ack_ceiling_minutes')
