"""Reports and retention: in-hours and retention settings, sites' implementation status, legal hold and incident flags

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 01:44:05.434606

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('site_implementation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('family_route', sa.Enum('live', 'not_live', name='familyroutestatus', native_enum=False, length=32), nullable=False),
    sa.Column('staff_route', sa.Enum('fully_live', 'partly_live', 'not_live', name='staffroutestatus', native_enum=False, length=32), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_site_implementation_recorded_by_id_user_account')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_site_implementation_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_implementation')),
    sa.UniqueConstraint('site_id', 'month', name=op.f('uq_site_implementation_site_id'))
    )
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_hold', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('serious_incident', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('complaint', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_concern_site_raised_at', ['site_id', 'raised_at'], unique=False)

    with op.batch_alter_table('settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_hours_start', sa.Time(), nullable=False, server_default='08:00:00'))
        batch_op.add_column(sa.Column('in_hours_end', sa.Time(), nullable=False, server_default='18:00:00'))
        batch_op.add_column(sa.Column('bank_holiday_region', sa.String(length=40), nullable=False, server_default='england-and-wales'))
        batch_op.add_column(sa.Column('retention_adult_years', sa.Integer(), nullable=False, server_default='8'))
        batch_op.add_column(sa.Column('retention_child_until_age', sa.Integer(), nullable=False, server_default='25'))
        batch_op.add_column(sa.Column('retention_complaint_years', sa.Integer(), nullable=False, server_default='10'))
        batch_op.add_column(sa.Column('retention_serious_incident_years', sa.Integer(), nullable=False, server_default='20'))



def downgrade():
    with op.batch_alter_table('settings', schema=None) as batch_op:
        batch_op.drop_column('retention_serious_incident_years')
        batch_op.drop_column('retention_complaint_years')
        batch_op.drop_column('retention_child_until_age')
        batch_op.drop_column('retention_adult_years')
        batch_op.drop_column('bank_holiday_region')
        batch_op.drop_column('in_hours_end')
        batch_op.drop_column('in_hours_start')

    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.drop_index('ix_concern_site_raised_at')
        batch_op.drop_column('purged_at')
        batch_op.drop_column('complaint')
        batch_op.drop_column('serious_incident')
        batch_op.drop_column('legal_hold')

    op.drop_table('site_implementation')
