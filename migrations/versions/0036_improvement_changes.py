"""The improvement charts' recorded changes and fixed baselines, per site, and the trust's run length for the
charts' shift and trend rules (docs/architecture.md#improvement-charts).

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-04 23:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def _removal():
    return [
        sa.Column('removed_by_id', sa.Integer(), nullable=True),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade():
    with op.batch_alter_table('settings') as batch:
        batch.add_column(sa.Column('spc_run_length', sa.Integer(), nullable=False, server_default='7'))
    op.create_table(
        'improvement_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('ward_id', sa.Integer(), nullable=True),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        *_removal(),
        sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_improvement_change_site_id_site')),
        sa.ForeignKeyConstraint(['ward_id'], ['ward.id'], name=op.f('fk_improvement_change_ward_id_ward')),
        sa.ForeignKeyConstraint(
            ['recorded_by_id'], ['user_account.id'], name=op.f('fk_improvement_change_recorded_by_id_user_account')
        ),
        sa.ForeignKeyConstraint(
            ['removed_by_id'], ['user_account.id'], name=op.f('fk_improvement_change_removed_by_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_improvement_change')),
    )
    op.create_index('ix_improvement_change_site_id_month', 'improvement_change', ['site_id', 'month'])
    op.create_table(
        'improvement_baseline',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('start_month', sa.Date(), nullable=False),
        sa.Column('end_month', sa.Date(), nullable=False),
        sa.Column('fixed_by_id', sa.Integer(), nullable=False),
        sa.Column('fixed_at', sa.DateTime(timezone=True), nullable=False),
        *_removal(),
        sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_improvement_baseline_site_id_site')),
        sa.ForeignKeyConstraint(
            ['fixed_by_id'], ['user_account.id'], name=op.f('fk_improvement_baseline_fixed_by_id_user_account')
        ),
        sa.ForeignKeyConstraint(
            ['removed_by_id'], ['user_account.id'], name=op.f('fk_improvement_baseline_removed_by_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_improvement_baseline')),
    )
    op.create_index('ix_improvement_baseline_site_id', 'improvement_baseline', ['site_id'])


def downgrade():
    op.drop_index('ix_improvement_baseline_site_id', table_name='improvement_baseline')
    op.drop_table('improvement_baseline')
    op.drop_index('ix_improvement_change_site_id_month', table_name='improvement_change')
    op.drop_table('improvement_change')
    with op.batch_alter_table('settings') as batch:
        batch.drop_column('spc_run_length')
