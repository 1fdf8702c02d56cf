"""Initial schema: trust, sites, teams, wards, users, concerns, the outbox and the audit chain

Revision ID: 0001
Revises: 
Create Date: 2026-11-30 00:05:15.430668

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=True),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('concern_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_event_hash'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_action', ['action'], unique=False)
        batch_op.create_index('ix_audit_event_concern_id', ['concern_id'], unique=False)
        batch_op.create_index('ix_audit_event_occurred_at', ['occurred_at'], unique=False)

    op.create_table('settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trust_name', sa.String(length=120), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('emergency_instruction', sa.Text(), nullable=False),
    sa.Column('outreach_phone', sa.String(length=32), nullable=False),
    sa.Column('pals_phone', sa.String(length=32), nullable=True),
    sa.Column('text_relatives_allowed', sa.Boolean(), nullable=False),
    sa.Column('sms_allowed_regions', sa.String(length=64), nullable=False),
    sa.Column('languages_enabled', sa.String(length=128), nullable=False),
    sa.Column('privacy_contact', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settings'))
    )
    op.create_table('site',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site')),
    sa.UniqueConstraint('code', name=op.f('uq_site_code'))
    )
    op.create_table('system_alarm',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('occurrences', sa.Integer(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_system_alarm'))
    )
    with op.batch_alter_table('system_alarm', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_system_alarm_kind'), ['kind'], unique=False)

    op.create_table('worker_heartbeat',
    sa.Column('worker_id', sa.String(length=80), nullable=False),
    sa.Column('hostname', sa.String(length=120), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('worker_id', name=op.f('pk_worker_heartbeat'))
    )
    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('population', sa.Enum('adult', 'paediatric', name='population', native_enum=False, length=32), nullable=False),
    sa.Column('public_phone', sa.String(length=32), nullable=False),
    sa.Column('duty_phone', sa.String(length=32), nullable=True),
    sa.Column('ack_target_minutes', sa.Integer(), nullable=False),
    sa.Column('review_target_minutes', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_team_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
    sa.UniqueConstraint('code', name=op.f('uq_team_code'))
    )
    op.create_table('ward',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('population', sa.Enum('adult', 'paediatric', name='population', native_enum=False, length=32), nullable=False),
    sa.Column('bed_labels', sa.Text(), nullable=True),
    sa.Column('nurse_in_charge_phone', sa.String(length=32), nullable=True),
    sa.Column('kiosk_default', sa.Boolean(), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('successor_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_ward_site_id_site')),
    sa.ForeignKeyConstraint(['successor_id'], ['ward.id'], name=op.f('fk_ward_successor_id_ward')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_ward_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ward')),
    sa.UniqueConstraint('code', name=op.f('uq_ward_code'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.Enum('ward_staff', 'outreach', 'manager', 'admin', name='role', native_enum=False, length=32), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('ward_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('mobile', sa.String(length=32), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_user_account_site_id_site')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_user_account_team_id_team')),
    sa.ForeignKeyConstraint(['ward_id'], ['ward.id'], name=op.f('fk_user_account_ward_id_ward')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('email', name=op.f('uq_user_account_email'))
    )
    op.create_table('concern',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('submission_id', sa.String(length=64), nullable=False),
    sa.Column('ward_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('bed', sa.String(length=60), nullable=True),
    sa.Column('patient_name', sa.String(length=120), nullable=True),
    sa.Column('patient_dob', sa.Date(), nullable=True),
    sa.Column('hospital_number', sa.String(length=32), nullable=True),
    sa.Column('caller_route', sa.Enum('patient', 'family_carer_advocate', 'staff', name='callerroute', native_enum=False, length=32), nullable=False),
    sa.Column('caller_name', sa.String(length=120), nullable=True),
    sa.Column('caller_relationship', sa.String(length=60), nullable=True),
    sa.Column('callback_number', sa.String(length=20), nullable=True),
    sa.Column('callback_textable', sa.Boolean(), nullable=False),
    sa.Column('sms_consent', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('preferred_language', sa.String(length=60), nullable=True),
    sa.Column('interpreter_needed', sa.Boolean(), nullable=False),
    sa.Column('communication_needs', sa.Text(), nullable=True),
    sa.Column('worry_categories', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('worry_details', sa.Text(), nullable=True),
    sa.Column('spoke_to_ward', sa.Enum('yes', 'no', name='spoketoward', native_enum=False, length=32), nullable=True),
    sa.Column('ward_response', sa.Text(), nullable=True),
    sa.Column('channel', sa.Enum('tablet', 'own_device', 'phone_call', 'staff', 'staff_assisted', name='channel', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('new', 'acknowledged', 'reviewed', 'closed', 'cancelled', name='concernstatus', native_enum=False, length=32), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=True),
    sa.Column('claimed_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('repeat_count', sa.Integer(), nullable=False),
    sa.Column('last_repeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('flagged_burst', sa.Boolean(), nullable=False),
    sa.Column('flagged_automated', sa.Boolean(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_alert_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('caller_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['claimed_by_id'], ['user_account.id'], name=op.f('fk_concern_claimed_by_id_user_account')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_concern_site_id_site')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_concern_team_id_team')),
    sa.ForeignKeyConstraint(['ward_id'], ['ward.id'], name=op.f('fk_concern_ward_id_ward')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_concern')),
    sa.UniqueConstraint('reference', name=op.f('uq_concern_reference')),
    sa.UniqueConstraint('submission_id', name=op.f('uq_concern_submission_id'))
    )
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.create_index('ix_concern_status_raised_at', ['status', 'raised_at'], unique=False)
        batch_op.create_index('ix_concern_team_status', ['team_id', 'status'], unique=False)
        batch_op.create_index('ix_concern_ward_raised_at', ['ward_id', 'raised_at'], unique=False)

    op.create_table('message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('concern_id', sa.Integer(), nullable=True),
    sa.Column('audience', sa.Enum('family', 'clinician', name='audience', native_enum=False, length=32), nullable=False),
    sa.Column('channel', sa.Enum('sms', 'voice', name='messagechannel', native_enum=False, length=32), nullable=False),
    sa.Column('recipient_kind', sa.Enum('caller', 'user', 'contact', name='recipientkind', native_enum=False, length=32), nullable=False),
    sa.Column('recipient_user_id', sa.Integer(), nullable=True),
    sa.Column('recipient_role', sa.String(length=40), nullable=True),
    sa.Column('to_number', sa.String(length=20), nullable=False),
    sa.Column('template_id', sa.String(length=64), nullable=False),
    sa.Column('variables', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('send_state', sa.Enum('pending', 'sending', 'unknown', 'accepted', 'dead', 'cancelled', 'held', name='sendstate', native_enum=False, length=32), nullable=False),
    sa.Column('hold_reason', sa.String(length=40), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_owner', sa.String(length=80), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_sid', sa.String(length=64), nullable=True),
    sa.Column('delivery_status', sa.String(length=20), nullable=True),
    sa.Column('delivery_status_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error_code', sa.String(length=20), nullable=True),
    sa.Column('error_reason', sa.String(length=300), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['concern_id'], ['concern.id'], name=op.f('fk_message_concern_id_concern')),
    sa.ForeignKeyConstraint(['recipient_user_id'], ['user_account.id'], name=op.f('fk_message_recipient_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_message_idempotency_key')),
    sa.UniqueConstraint('provider_sid', name=op.f('uq_message_provider_sid'))
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_concern_id'), ['concern_id'], unique=False)
        batch_op.create_index('ix_message_due', ['send_state', 'next_attempt_at'], unique=False)



    # The audit chain starts empty: one head row that every append locks (docs/architecture.md#audit).
    op.execute("INSERT INTO audit_chain_head (id, last_event_id, last_hash) VALUES (1, 0, '" + "0" * 64 + "')")

    # PostgreSQL refuses any UPDATE or DELETE of audit rows. (SQLite has no such trigger; the
    # hash chain still shows any edit.) TRUNCATE is left to the test harness.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP;
            END $$
        """)
        op.execute("""
            CREATE TRIGGER audit_event_append_only
            BEFORE UPDATE OR DELETE ON audit_event
            FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
        """)

def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_due')
        batch_op.drop_index(batch_op.f('ix_message_concern_id'))

    op.drop_table('message')
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.drop_index('ix_concern_ward_raised_at')
        batch_op.drop_index('ix_concern_team_status')
        batch_op.drop_index('ix_concern_status_raised_at')

    op.drop_table('concern')
    op.drop_table('user_account')
    op.drop_table('ward')
    op.drop_table('team')
    op.drop_table('worker_heartbeat')
    with op.batch_alter_table('system_alarm', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_system_alarm_kind'))

    op.drop_table('system_alarm')
    op.drop_table('site')
    op.drop_table('settings')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_occurred_at')
        batch_op.drop_index('ix_audit_event_concern_id')
        batch_op.drop_index('ix_audit_event_action')

    op.drop_table('audit_event')
    op.drop_table('audit_chain_head')
