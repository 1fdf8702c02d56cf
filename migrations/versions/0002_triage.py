"""Triage: staff sessions and teams, the concern's review and outcome coding, notes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 00:26:00.830585

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('saved_form',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_saved_form_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_form')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_saved_form_token_hash'))
    )
    op.create_table('session_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_active_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('authenticated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.String(length=24), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_session_record_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_record')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_session_record_token_hash'))
    )
    with op.batch_alter_table('session_record', schema=None) as batch_op:
        batch_op.create_index('ix_session_record_user_id_revoked_at', ['user_id', 'revoked_at'], unique=False)

    op.create_table('user_team',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_user_team_team_id_team'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_team_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'team_id', name=op.f('pk_user_team'))
    )
    op.create_table('concern_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('concern_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('note', 'findings', 'release_reason', 'hand_over_reason', 'cancel_reason', 'reopen_reason', 'close_summary', name='notekind', native_enum=False, length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_concern_note_author_id_user_account')),
    sa.ForeignKeyConstraint(['concern_id'], ['concern.id'], name=op.f('fk_concern_note_concern_id_concern')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_concern_note'))
    )
    with op.batch_alter_table('concern_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_concern_note_concern_id'), ['concern_id'], unique=False)

    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('review_kind', sa.Enum('phone_advice', 'seen_on_ward', name='reviewkind', native_enum=False, length=32), nullable=True))
        batch_op.add_column(sa.Column('news2_total', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('news2_scale', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('news2_response', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('news2_parameters', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('concern_type', sa.Enum('acute_deterioration', 'clinical_concern', 'communication', 'discharge_planning', 'other_signposted', name='concerntype', native_enum=False, length=32), nullable=True))
        batch_op.add_column(sa.Column('clinical_review_needed', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('deterioration_outcome', sa.Enum('critical_care_admission', 'transfer_enhanced_or_tertiary', 'change_in_care', 'no_change', name='deteriorationoutcome', native_enum=False, length=32), nullable=True))
        batch_op.add_column(sa.Column('change_in_care', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('caller_update_method', sa.Enum('phone', 'in_person', 'text_message', 'could_not_contact', name='callerupdatemethod', native_enum=False, length=32), nullable=True))
        batch_op.add_column(sa.Column('cancel_kind', sa.Enum('duplicate', 'withdrawn', name='cancelkind', native_enum=False, length=32), nullable=True))
        batch_op.add_column(sa.Column('duplicate_of_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_concern_team_updated_at', ['team_id', 'updated_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_concern_duplicate_of_id_concern'), 'concern', ['duplicate_of_id'], ['id'])

    # Existing concerns: last changed when raised, no change in care recorded.
    op.execute("UPDATE concern SET updated_at = raised_at, change_in_care = '[]'")
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column('change_in_care', existing_type=sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False)

    with op.batch_alter_table('settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idle_timeout_minutes', sa.Integer(), nullable=False, server_default='30'))
        batch_op.add_column(sa.Column('mfa_for_all_staff', sa.Boolean(), nullable=False, server_default=sa.false()))

    # Each clinician's one team becomes their first entry in user_team.
    op.execute("INSERT INTO user_team (user_id, team_id) SELECT id, team_id FROM user_account WHERE team_id IS NOT NULL")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('fk_user_account_team_id_team'), type_='foreignkey')
        batch_op.drop_column('team_id')



def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_id', sa.INTEGER(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_account_team_id_team'), 'team', ['team_id'], ['id'])
    op.execute("UPDATE user_account SET team_id = (SELECT min(team_id) FROM user_team WHERE user_team.user_id = user_account.id)")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('last_sign_in_at')
        batch_op.drop_column('password_changed_at')

    with op.batch_alter_table('settings', schema=None) as batch_op:
        batch_op.drop_column('mfa_for_all_staff')
        batch_op.drop_column('idle_timeout_minutes')

    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_concern_duplicate_of_id_concern'), type_='foreignkey')
        batch_op.drop_index('ix_concern_team_updated_at')
        batch_op.drop_column('duplicate_of_id')
        batch_op.drop_column('cancel_kind')
        batch_op.drop_column('caller_update_method')
        batch_op.drop_column('change_in_care')
        batch_op.drop_column('deterioration_outcome')
        batch_op.drop_column('clinical_review_needed')
        batch_op.drop_column('concern_type')
        batch_op.drop_column('news2_parameters')
        batch_op.drop_column('news2_response')
        batch_op.drop_column('news2_scale')
        batch_op.drop_column('news2_total')
        batch_op.drop_column('review_kind')
        batch_op.drop_column('updated_at')

    with op.batch_alter_table('concern_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_concern_note_concern_id'))

    op.drop_table('concern_note')
    op.drop_table('user_team')
    with op.batch_alter_table('session_record', schema=None) as batch_op:
        batch_op.drop_index('ix_session_record_user_id_revoked_at')

    op.drop_table('session_record')
    op.drop_table('saved_form')
