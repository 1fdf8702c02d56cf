"""The daily check (docs/architecture.md#beds): a bed's occupancies (at most one open per bed) and each day's
answers, each tied to a bed and, where there is one, to the occupancy it was given for.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bed_occupancy',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bed_id', sa.Integer(), nullable=False),
        sa.Column('occupied_from', sa.DateTime(timezone=True), nullable=False),
        sa.Column('occupied_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('patient_name', sa.String(length=120), nullable=True),
        sa.Column('started_by_id', sa.Integer(), nullable=True),
        sa.Column('ended_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['bed_id'], ['bed.id'], name=op.f('fk_bed_occupancy_bed_id_bed')),
        sa.ForeignKeyConstraint(
            ['started_by_id'], ['user_account.id'], name=op.f('fk_bed_occupancy_started_by_id_user_account')
        ),
        sa.ForeignKeyConstraint(
            ['ended_by_id'], ['user_account.id'], name=op.f('fk_bed_occupancy_ended_by_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bed_occupancy')),
    )
    op.create_index(op.f('ix_bed_occupancy_bed_id'), 'bed_occupancy', ['bed_id'], unique=False)
    op.create_index(
        'uq_bed_occupancy_bed_id_open',
        'bed_occupancy',
        ['bed_id'],
        unique=True,
        sqlite_where=sa.text('occupied_until IS NULL'),
        postgresql_where=sa.text('occupied_until IS NULL'),
    )
    users = ['recorded_by_id', 'confirmed_by_id', 'seen_by_id', 'acted_on_by_id']
    op.create_table(
        'daily_check_answer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ward_id', sa.Integer(), nullable=False),
        sa.Column('bed_id', sa.Integer(), nullable=False),
        sa.Column('occupancy_id', sa.Integer(), nullable=True),
        sa.Column('local_day', sa.Date(), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('feeling', sa.String(length=16), nullable=False),
        sa.Column('compared', sa.String(length=16), nullable=False),
        sa.Column('free_text', sa.Text(), nullable=True),
        sa.Column('answered_by', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('patient_name_given', sa.String(length=120), nullable=True),
        sa.Column('worse', sa.Boolean(), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('seen_by_id', sa.Integer(), nullable=True),
        sa.Column('acted_on_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acted_on_by_id', sa.Integer(), nullable=True),
        sa.Column('concern_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['ward_id'], ['ward.id'], name=op.f('fk_daily_check_answer_ward_id_ward')),
        sa.ForeignKeyConstraint(['bed_id'], ['bed.id'], name=op.f('fk_daily_check_answer_bed_id_bed')),
        sa.ForeignKeyConstraint(
            ['occupancy_id'], ['bed_occupancy.id'], name=op.f('fk_daily_check_answer_occupancy_id_bed_occupancy')
        ),
        sa.ForeignKeyConstraint(['concern_id'], ['concern.id'], name=op.f('fk_daily_check_answer_concern_id_concern')),
        *[
            sa.ForeignKeyConstraint(
                [column], ['user_account.id'], name=op.f(f'fk_daily_check_answer_{column}_user_account')
            )
            for column in users
        ],
        sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_check_answer')),
    )
    op.create_index(op.f('ix_daily_check_answer_bed_id'), 'daily_check_answer', ['bed_id'], unique=False)
    op.create_index(op.f('ix_daily_check_answer_occupancy_id'), 'daily_check_answer', ['occupancy_id'], unique=False)
    op.create_index('ix_daily_check_answer_ward_id_local_day', 'daily_check_answer', ['ward_id', 'local_day'])


def downgrade():
    op.drop_index('ix_daily_check_answer_ward_id_local_day', table_name='daily_check_answer')
    op.drop_index(op.f('ix_daily_check_answer_occupancy_id'), table_name='daily_check_answer')
    op.drop_index(op.f('ix_daily_check_answer_bed_id'), table_name='daily_check_answer')
    op.drop_table('daily_check_answer')
    op.drop_index('uq_bed_occupancy_bed_id_open', table_name='bed_occupancy')
    op.drop_index(op.f('ix_bed_occupancy_bed_id'), table_name='bed_occupancy')
    op.drop_table('bed_occupancy')
