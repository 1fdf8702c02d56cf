"""Routing: rotas, escalation policies, each call's frozen escalation plan, provider events, opt-outs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 01:35:07.188964

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sms_opt_out',
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('keyword', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_sms_opt_out'))
    )
    op.create_table('escalation_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('repeat_times', sa.Integer(), nullable=False),
    sa.Column('fallback_name', sa.String(length=80), nullable=False),
    sa.Column('fallback_number', sa.String(length=20), nullable=False),
    sa.Column('fallback_channel', sa.Enum('sms', 'voice', name='alertchannel', native_enum=False, length=32), nullable=False),
    sa.Column('fallback_wait_minutes', sa.Integer(), nullable=False),
    sa.Column('ack_pause_minutes', sa.Integer(), nullable=False),
    sa.Column('alert_accept_seconds', sa.Integer(), nullable=False),
    sa.Column('review_reminder_minutes', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_escalation_policy_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_policy')),
    sa.UniqueConstraint('team_id', name=op.f('uq_escalation_policy_team_id'))
    )
    op.create_table('rota_pattern',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.Enum('primary', 'secondary', 'lead', name='tier', native_enum=False, length=32), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('start_local', sa.String(length=5), nullable=False),
    sa.Column('shift_hours', sa.Integer(), nullable=False),
    sa.Column('anchor_date', sa.Date(), nullable=False),
    sa.Column('people', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_rota_pattern_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rota_pattern'))
    )
    with op.batch_alter_table('rota_pattern', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rota_pattern_team_id'), ['team_id'], unique=False)

    op.create_table('escalation_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('tiers', sa.JSON(), nullable=False),
    sa.Column('channel', sa.Enum('sms', 'voice', name='alertchannel', native_enum=False, length=32), nullable=False),
    sa.Column('wait_minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['policy_id'], ['escalation_policy.id'], name=op.f('fk_escalation_step_policy_id_escalation_policy'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_step'))
    )
    op.create_table('shift',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.Enum('primary', 'secondary', 'lead', name='tier', native_enum=False, length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('override', 'extra', name='shiftkind', native_enum=False, length=32), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_shift_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_shift_team_id_team')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_shift_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shift'))
    )
    with op.batch_alter_table('shift', schema=None) as batch_op:
        batch_op.create_index('ix_shift_team_time', ['team_id', 'starts_at', 'ends_at'], unique=False)

    op.create_table('message_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('concern_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('provider_sid', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('error_code', sa.String(length=20), nullable=True),
    sa.Column('from_number', sa.String(length=20), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('idempotency_token', sa.String(length=100), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['concern_id'], ['concern.id'], name=op.f('fk_message_event_concern_id_concern')),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_message_event_message_id_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_event'))
    )
    with op.batch_alter_table('message_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_event_concern_id'), ['concern_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_event_message_id'), ['message_id'], unique=False)
        batch_op.create_index('ix_message_event_sid', ['provider_sid'], unique=False)

    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalation_plan', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('escalation_position', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_escalation_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalation_paused_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('review_nudges', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_review_nudge_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('unread_reply', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_concern_next_escalation_at'), ['next_escalation_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_concern_next_review_nudge_at'), ['next_review_nudge_at'], unique=False)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalation_step', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('escalation_step')

    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_concern_next_review_nudge_at'))
        batch_op.drop_index(batch_op.f('ix_concern_next_escalation_at'))
        batch_op.drop_column('unread_reply')
        batch_op.drop_column('next_review_nudge_at')
        batch_op.drop_column('review_nudges')
        batch_op.drop_column('escalation_paused_until')
        batch_op.drop_column('next_escalation_at')
        batch_op.drop_column('escalation_position')
        batch_op.drop_column('escalation_plan')

    with op.batch_alter_table('message_event', schema=None) as batch_op:
        batch_op.drop_index('ix_message_event_sid')
        batch_op.drop_index(batch_op.f('ix_message_event_message_id'))
        batch_op.drop_index(batch_op.f('ix_message_event_concern_id'))

    op.drop_table('message_event')
    with op.batch_alter_table('shift', schema=None) as batch_op:
        batch_op.drop_index('ix_shift_team_time')

    op.drop_table('shift')
    op.drop_table('escalation_step')
    with op.batch_alter_table('rota_pattern', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rota_pattern_team_id'))

    op.drop_table('rota_pattern')
    op.drop_table('escalation_policy')
    op.drop_table('sms_opt_out')
