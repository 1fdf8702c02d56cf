"""The access review (docs/architecture.md#set-up): each month's review recorded done, once per month for a site
or the whole trust, and the trust's setting for how many days without a sign-in flag an account as unused
(90 by default).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03 19:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('settings') as batch:
        batch.add_column(
            sa.Column('access_review_unused_days', sa.Integer(), nullable=False, server_default='90')
        )
    op.create_table(
        'access_review',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('accounts', sa.Integer(), nullable=False),
        sa.Column('unused', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_access_review_site_id_site')),
        sa.ForeignKeyConstraint(
            ['reviewed_by_id'], ['user_account.id'], name=op.f('fk_access_review_reviewed_by_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_review')),
    )
    op.create_index(
        'uq_access_review_month_site',
        'access_review',
        ['month', 'site_id'],
        unique=True,
        sqlite_where=sa.text('site_id IS NOT NULL'),
        postgresql_where=sa.text('site_id IS NOT NULL'),
    )
    op.create_index(
        'uq_access_review_month_trust',
        'access_review',
        ['month'],
        unique=True,
        sqlite_where=sa.text('site_id IS NULL'),
        postgresql_where=sa.text('site_id IS NULL'),
    )


def downgrade():
    op.drop_index('uq_access_review_month_trust', table_name='access_review')
    op.drop_index('uq_access_review_month_site', table_name='access_review')
    op.drop_table('access_review')
    with op.batch_alter_table('settings') as batch:
        batch.drop_column('access_review_unused_days')
