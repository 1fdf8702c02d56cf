"""Invitations to new staff accounts (docs/architecture.md#set-up): a one-time link, stored only as its hash, with
which the account's owner chooses their first password; used once, within 7 days.

Revision ID: 0030
Revises: 0028
Create Date: 2026-12-04 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0030'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'staff_invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_staff_invitation_user_id_user_account')),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['user_account.id'], name=op.f('fk_staff_invitation_created_by_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_invitation')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_staff_invitation_token_hash')),
    )
    op.create_index(op.f('ix_staff_invitation_user_id'), 'staff_invitation', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_staff_invitation_user_id'), table_name='staff_invitation')
    op.drop_table('staff_invitation')
