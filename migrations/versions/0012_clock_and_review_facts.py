"""Truthful clocks and review counts, with the figures they change kept.

- `caller_updated_at` is set only by the clinician's record that the caller was told the outcome;
  a delivered "the team has seen the patient" text is kept apart (`caller_texted_at`), and "could
  not contact" leaves it empty. Before, a "please phone the team" text set it, and it stayed set on
  a call closed as "could not contact".
- `first_alert_sent_at` is the first alert that paged someone for the call; before, a later review
  reminder set it when no alert could be sent.
- "Needed a clinical review" counts every call with a recorded review (a rule in the code).

First every site's figures for every month with calls are kept as they stood (`return_revision`), so
the return page can show what was revised; then the two clocks are worked out again from the
messages, and their report facts with them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 13:00:00
"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

REASON = (
    'The definitions were corrected: "caller updated" only when a clinician records that the caller was told, '
    '"first alert sent" only by an alert (not a reminder), and every call with a recorded review "needed a '
    'clinical review".'
)
ALERT_TEMPLATES = ('clinician_alert', 'clinician_alert_burst', 'voice_alert')
MICROSECOND = timedelta(microseconds=1)

concern = sa.table(
    'concern',
    sa.column('id', sa.Integer),
    sa.column('site_id', sa.Integer),
    sa.column('status', sa.String),
    sa.column('cancel_kind', sa.String),
    sa.column('raised_at', sa.DateTime(timezone=True)),
    sa.column('raised_local_month', sa.Date),
    sa.column('clinical_review_needed', sa.Boolean),
    sa.column('reviewed_at', sa.DateTime(timezone=True)),
    sa.column('caller_update_method', sa.String),
    sa.column('caller_updated_at', sa.DateTime(timezone=True)),
    sa.column('caller_texted_at', sa.DateTime(timezone=True)),
    sa.column('first_alert_sent_at', sa.DateTime(timezone=True)),
    sa.column('to_first_alert_us', sa.BigInteger),
    sa.column('to_caller_updated_us', sa.BigInteger),
)
message = sa.table(
    'message',
    sa.column('concern_id', sa.Integer),
    sa.column('template_id', sa.String),
    sa.column('accepted_at', sa.DateTime(timezone=True)),
    sa.column('delivery_status', sa.String),
    sa.column('delivery_status_at', sa.DateTime(timezone=True)),
)


def upgrade():
    json_type = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
    op.create_table(
        'return_revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('figures', json_type, nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['site.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_return_revision_site_id_month', 'return_revision', ['site_id', 'month'])
    with op.batch_alter_table('concern') as batch:
        batch.add_column(sa.Column('caller_texted_at', sa.DateTime(timezone=True), nullable=True))
    connection = op.get_bind()
    _keep_the_figures_as_they_stand(connection)
    _work_out_the_clocks_again(connection)


def _keep_the_figures_as_they_stand(connection):
    not_duplicate = sa.or_(concern.c.status != 'cancelled', concern.c.cancel_kind.is_(None),
                           concern.c.cancel_kind != 'duplicate')
    rows = connection.execute(
        sa.select(
            concern.c.site_id,
            concern.c.raised_local_month,
            sa.func.count().filter(sa.and_(concern.c.status == 'closed', concern.c.clinical_review_needed.is_(True))),
            sa.func.count(concern.c.caller_updated_at),
            sa.func.count(concern.c.first_alert_sent_at),
        )
        .where(not_duplicate, concern.c.raised_local_month.is_not(None))
        .group_by(concern.c.site_id, concern.c.raised_local_month)
    ).all()
    revision_table = sa.table(
        'return_revision',
        sa.column('site_id', sa.Integer),
        sa.column('month', sa.Date),
        sa.column('taken_at', sa.DateTime(timezone=True)),
        sa.column('reason', sa.String),
        sa.column('figures', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')),
    )
    now = datetime.now(UTC)
    taken_at = now if connection.dialect.name == 'postgresql' else now.replace(tzinfo=None)
    for site_id, month, review_needed, caller_updated, first_alert in rows:
        connection.execute(
            revision_table.insert().values(
                site_id=site_id,
                month=month,
                taken_at=taken_at,
                reason=REASON,
                figures={
                    'clinical_review': review_needed,
                    'caller_updated': caller_updated,
                    'first_alert': first_alert,
                },
            )
        )


def _work_out_the_clocks_again(connection):
    texted = dict(
        connection.execute(
            sa.select(message.c.concern_id, sa.func.min(message.c.delivery_status_at))
            .where(message.c.template_id == 'update_review_done', message.c.delivery_status == 'delivered')
            .group_by(message.c.concern_id)
        ).all()
    )
    alerted = dict(
        connection.execute(
            sa.select(message.c.concern_id, sa.func.min(message.c.accepted_at))
            .where(message.c.template_id.in_(ALERT_TEMPLATES), message.c.accepted_at.is_not(None))
            .group_by(message.c.concern_id)
        ).all()
    )
    rows = connection.execute(
        sa.select(
            concern.c.id,
            concern.c.raised_at,
            concern.c.caller_update_method,
            concern.c.caller_updated_at,
            concern.c.first_alert_sent_at,
        )
    ).all()
    for concern_id, raised_at, method, caller_updated_at, first_alert_sent_at in rows:
        told = caller_updated_at if method is not None and method != 'could_not_contact' else None
        first_alert = alerted.get(concern_id)
        values = {}
        if told != caller_updated_at:
            values['caller_updated_at'] = told
            values['to_caller_updated_us'] = None if told is None else (told - raised_at) // MICROSECOND
        if first_alert != first_alert_sent_at:
            values['first_alert_sent_at'] = first_alert
            values['to_first_alert_us'] = None if first_alert is None else (first_alert - raised_at) // MICROSECOND
        if concern_id in texted:
            values['caller_texted_at'] = texted[concern_id]
        if values:
            connection.execute(concern.update().where(concern.c.id == concern_id).values(**values))


def downgrade():
    with op.batch_alter_table('concern') as batch:
        batch.drop_column('caller_texted_at')
    op.drop_index('ix_return_revision_site_id_month', table_name='return_revision')
    op.drop_table('return_revision')
