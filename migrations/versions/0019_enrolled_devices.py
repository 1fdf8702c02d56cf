"""Enrolled devices: the outreach office's queue display (and the ward tablets that follow), and the address
ranges the trust allows them on.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 19:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'enrolled_device',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('label', sa.String(length=80), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('ward_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('link_hash', sa.String(length=64), nullable=True),
        sa.Column('link_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('secret_hash', sa.String(length=64), nullable=True),
        sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_used_on', sa.Date(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_enrolled_device_created_by_id_user_account')),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['user_account.id'], name=op.f('fk_enrolled_device_revoked_by_id_user_account')),
        sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_enrolled_device_site_id_site')),
        sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_enrolled_device_team_id_team')),
        sa.ForeignKeyConstraint(['ward_id'], ['ward.id'], name=op.f('fk_enrolled_device_ward_id_ward')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolled_device')),
        sa.UniqueConstraint('link_hash', name=op.f('uq_enrolled_device_link_hash')),
        sa.UniqueConstraint('secret_hash', name=op.f('uq_enrolled_device_secret_hash')),
    )
    op.create_index(op.f('ix_enrolled_device_site_id'), 'enrolled_device', ['site_id'], unique=False)
    with op.batch_alter_table('settings') as batch:
        batch.add_column(sa.Column('device_address_ranges', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('settings') as batch:
        batch.drop_column('device_address_ranges')
    op.drop_index(op.f('ix_enrolled_device_site_id'), table_name='enrolled_device')
    op.drop_table('enrolled_device')
