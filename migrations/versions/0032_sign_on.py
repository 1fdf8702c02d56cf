"""Sign-on with the trust's own accounts (docs/architecture.md#sign-on): linked trust accounts, trips through
the provider, the sign-on outage switch, break-glass administrators, and which sessions signed on.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sign_on_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=300), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'], name=op.f('fk_sign_on_link_user_id_user_account'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_on_link')),
        sa.UniqueConstraint('issuer', 'subject', name='uq_sign_on_link_issuer_subject'),
        sa.UniqueConstraint('user_id', name=op.f('uq_sign_on_link_user_id')),
    )
    op.create_table(
        'sign_on_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('state_hash', sa.String(length=64), nullable=False),
        sa.Column('purpose', sa.String(length=12), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('code_verifier', sa.String(length=128), nullable=False),
        sa.Column('next_path', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'], name=op.f('fk_sign_on_request_user_id_user_account'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_on_request')),
        sa.UniqueConstraint('state_hash', name=op.f('uq_sign_on_request_state_hash')),
    )
    op.create_index(op.f('ix_sign_on_request_created_at'), 'sign_on_request', ['created_at'], unique=False)
    op.create_table(
        'sign_on_outage',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_by_id', sa.Integer(), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ['started_by_id'], ['user_account.id'], name=op.f('fk_sign_on_outage_started_by_id_user_account')
        ),
        sa.ForeignKeyConstraint(
            ['ended_by_id'], ['user_account.id'], name=op.f('fk_sign_on_outage_ended_by_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_on_outage')),
    )
    op.create_index(op.f('ix_sign_on_outage_ends_at'), 'sign_on_outage', ['ends_at'], unique=False)
    with op.batch_alter_table('user_account') as batch:
        batch.add_column(sa.Column('break_glass', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('session_record') as batch:
        batch.add_column(sa.Column('sign_on', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('session_record') as batch:
        batch.drop_column('sign_on')
    with op.batch_alter_table('user_account') as batch:
        batch.drop_column('break_glass')
    op.drop_index(op.f('ix_sign_on_outage_ends_at'), table_name='sign_on_outage')
    op.drop_table('sign_on_outage')
    op.drop_index(op.f('ix_sign_on_request_created_at'), table_name='sign_on_request')
    op.drop_table('sign_on_request')
    op.drop_table('sign_on_link')
