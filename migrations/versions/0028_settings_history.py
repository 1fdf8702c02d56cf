"""The settings history (docs/architecture.md#set-up): every version of the trust's settings, seeded with the
settings as they stand, dated from when they were last changed.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 09:00:00
"""
from datetime import UTC, datetime, time

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
# The settings as this upgrade knows them (a migration never imports the models, which move on).
SETTINGS = sa.table(
    'settings',
    sa.column('id', sa.Integer()),
    *(sa.column(name, sa.String()) for name in (
        'trust_name', 'timezone', 'emergency_instruction', 'outreach_phone', 'pals_phone', 'sms_allowed_regions',
        'languages_enabled', 'privacy_contact', 'bank_holiday_region', 'safeguarding_lead_name',
        'safeguarding_lead_phone', 'linked_calls_counted', 'device_address_ranges',
    )),
    *(sa.column(name, sa.Integer()) for name in (
        'idle_timeout_minutes', 'retention_adult_years', 'retention_child_until_age', 'retention_complaint_years',
        'retention_serious_incident_years', 'text_in_team_id',
    )),
    *(sa.column(name, sa.Boolean()) for name in ('text_relatives_allowed', 'mfa_for_all_staff', 'text_in_paging')),
    sa.column('in_hours_start', sa.Time()),
    sa.column('in_hours_end', sa.Time()),
    sa.column('kiosk_default_until', sa.DateTime(timezone=True)),
    sa.column('updated_at', sa.DateTime(timezone=True)),
)
WORDS = sa.table(
    'trust_words',
    sa.column('locale', sa.String()),
    sa.column('key', sa.String()),
    sa.column('text', sa.Text()),
    sa.column('updated_at', sa.DateTime(timezone=True)),
)
VERSION = sa.table(
    'settings_version',
    sa.column('recorded_at', sa.DateTime(timezone=True)),
    sa.column('actor_type', sa.String()),
    sa.column('changed', JSON),
    sa.column('snapshot', JSON),
    sa.column('retention_shortened', sa.Boolean()),
)


def upgrade():
    op.create_table(
        'settings_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_type', sa.String(length=16), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('changed', JSON, nullable=False),
        sa.Column('snapshot', JSON, nullable=False),
        sa.Column('retention_shortened', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ['actor_id'], ['user_account.id'], name=op.f('fk_settings_version_actor_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_settings_version')),
    )
    op.create_index('ix_settings_version_recorded_at', 'settings_version', ['recorded_at'], unique=False)
    _seed()


def _seed():
    """The settings as they stand become the first version, in force since they (or the trust's words) last
    changed. A database with no settings yet starts its history at the first `setup-trust`."""
    bind = op.get_bind()
    row = bind.execute(sa.select(SETTINGS).where(SETTINGS.c.id == 1)).mappings().first()
    if row is None:
        return
    snapshot = {name: _plain(value) for name, value in row.items() if name not in ('id', 'updated_at')}
    words = {}
    since = [_utc(row['updated_at'])]
    for locale, key, text, updated_at in bind.execute(sa.select(WORDS).order_by(WORDS.c.locale, WORDS.c.key)):
        words.setdefault(locale, {})[key] = text
        since.append(_utc(updated_at))
    snapshot['words'] = words
    recorded_at = max((moment for moment in since if moment is not None), default=datetime.now(UTC))
    op.bulk_insert(
        VERSION,
        [{'recorded_at': recorded_at, 'actor_type': 'migration', 'changed': [], 'snapshot': snapshot,
          'retention_shortened': False}],
    )


def _utc(moment):
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _plain(value):
    """As services/setup/settings_history.py keeps it: times as HH:MM, moments as ISO text in UTC."""
    if isinstance(value, time):
        return value.strftime('%H:%M')
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    return value


def downgrade():
    op.drop_index('ix_settings_version_recorded_at', table_name='settings_version')
    op.drop_table('settings_version')
