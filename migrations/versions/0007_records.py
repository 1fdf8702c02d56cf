"""Records: the export log (with the reason for including patient identifiers), audit chain checkpoints, and indexes for searching the audit log by action and by person

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.Enum('concerns_csv', 'concerns_xlsx', 'audit_csv', name='exportkind', native_enum=False, length=32), nullable=False),
    sa.Column('filters', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('identifiers', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_export_log_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_log'))
    )
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_log_user_id'), ['user_id'], unique=False)

    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('full', sa.Boolean(), nullable=False),
    sa.Column('from_event_id', sa.Integer(), nullable=False),
    sa.Column('to_event_id', sa.Integer(), nullable=False),
    sa.Column('to_hash', sa.String(length=64), nullable=False),
    sa.Column('events_checked', sa.Integer(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('first_broken_id', sa.Integer(), nullable=True),
    sa.Column('problem', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint'))
    )

    # Indexes only: the audit table itself is never altered (on PostgreSQL a trigger refuses
    # UPDATE and DELETE; CREATE INDEX is neither).
    op.drop_index('ix_audit_event_action', table_name='audit_event')
    op.create_index('ix_audit_event_action_occurred_at', 'audit_event', ['action', 'occurred_at'], unique=False)
    op.create_index('ix_audit_event_actor_id_occurred_at', 'audit_event', ['actor_id', 'occurred_at'], unique=False)


def downgrade():
    op.drop_index('ix_audit_event_actor_id_occurred_at', table_name='audit_event')
    op.drop_index('ix_audit_event_action_occurred_at', table_name='audit_event')
    op.create_index('ix_audit_event_action', 'audit_event', ['action'], unique=False)
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_log_user_id'))
    op.drop_table('export_log')
    op.drop_table('audit_checkpoint')
