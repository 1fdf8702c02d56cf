"""Security holes closed: saved forms sealed (and every old one deleted: some held passwords in
clear, so their owners must choose a new password), sign-in throttle counts, a fresh-code clock
per session, a forced new authenticator after a reset, alarms about one thing (an account under
attack), and the family's confirmation kept on the server instead of in the cookie.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:00:00
"""
import json
import re

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Field names the old code kept in clear: the password forms' fields ("current", "new" and
# "confirm" on the password page) and anything named like a password.
PASSWORD_FIELD = re.compile(r'pass|pwd|^(current|new|confirm)$', re.I)


def _held_a_password(fields) -> bool:
    if isinstance(fields, str):
        try:
            fields = json.loads(fields)
        except ValueError:
            return True  # unreadable: assume the worst
    return isinstance(fields, dict) and any(PASSWORD_FIELD.search(str(key)) for key in fields)


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.text('SELECT user_id, fields FROM saved_form')).all()
    exposed = sorted({user_id for user_id, fields in rows if _held_a_password(fields)})
    if exposed:
        connection.execute(sa.text('UPDATE user_account SET must_change_password = :yes WHERE id IN :ids')
                           .bindparams(sa.bindparam('ids', expanding=True)), {'yes': True, 'ids': exposed})
    connection.execute(sa.text('DELETE FROM saved_form'))

    with op.batch_alter_table('saved_form', schema=None) as batch_op:
        batch_op.drop_column('fields')
        batch_op.add_column(sa.Column('sealed', sa.Text(), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_saved_form_created_at'), ['created_at'], unique=False)
    with op.batch_alter_table('saved_form', schema=None) as batch_op:
        batch_op.alter_column('sealed', server_default=None)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_enrol_mfa', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('must_enrol_mfa', server_default=None)

    with op.batch_alter_table('session_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mfa_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('system_alarm', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(length=64), nullable=True))

    op.create_table(
        'sign_in_throttle',
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('refused', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_throttle')),
    )
    op.create_table(
        'confirmation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('concern_id', sa.Integer(), nullable=False),
        sa.Column('ward_code', sa.String(length=32), nullable=False),
        sa.Column('reference', sa.String(length=16), nullable=False),
        sa.Column('family_text', sa.String(length=24), nullable=False),
        sa.Column('number_masked', sa.String(length=32), nullable=True),
        sa.Column('kiosk', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['concern_id'], ['concern.id'], name=op.f('fk_confirmation_concern_id_concern'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_confirmation')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_confirmation_token_hash')),
    )
    with op.batch_alter_table('confirmation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_confirmation_concern_id'), ['concern_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_confirmation_created_at'), ['created_at'], unique=False)


def downgrade():
    op.drop_table('confirmation')
    op.drop_table('sign_in_throttle')
    with op.batch_alter_table('system_alarm', schema=None) as batch_op:
        batch_op.drop_column('subject')
    with op.batch_alter_table('session_record', schema=None) as batch_op:
        batch_op.drop_column('mfa_at')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('must_enrol_mfa')
    op.execute('DELETE FROM saved_form')
    with op.batch_alter_table('saved_form', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_form_created_at'))
        batch_op.drop_column('sealed')
        batch_op.add_column(sa.Column('fields', sa.JSON(), nullable=False, server_default='{}'))
