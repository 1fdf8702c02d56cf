"""Linked calls: a second caller's call about the same patient joined to the call the team is working, and a
new call raised from a caller's text after their call ended (each points at the call it came from); and the
trust's choice of how a linked call counts in the national figures ("own": as its own call by its own route,
the default; "once": only the call it was linked to).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 16:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('concern') as batch:
        batch.add_column(sa.Column('linked_to_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('linked_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('follows_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_concern_linked_to_id_concern'), 'concern', ['linked_to_id'], ['id'])
        batch.create_foreign_key(batch.f('fk_concern_follows_id_concern'), 'concern', ['follows_id'], ['id'])
        batch.create_index(batch.f('ix_concern_linked_to_id'), ['linked_to_id'], unique=False)
        batch.create_index(batch.f('ix_concern_follows_id'), ['follows_id'], unique=False)
    with op.batch_alter_table('settings') as batch:
        batch.add_column(
            sa.Column('linked_calls_counted', sa.String(length=8), nullable=False, server_default='own')
        )


def downgrade():
    with op.batch_alter_table('settings') as batch:
        batch.drop_column('linked_calls_counted')
    with op.batch_alter_table('concern') as batch:
        batch.drop_index(batch.f('ix_concern_follows_id'))
        batch.drop_index(batch.f('ix_concern_linked_to_id'))
        batch.drop_constraint(batch.f('fk_concern_follows_id_concern'), type_='foreignkey')
        batch.drop_constraint(batch.f('fk_concern_linked_to_id_concern'), type_='foreignkey')
        batch.drop_column('follows_id')
        batch.drop_column('linked_at')
        batch.drop_column('linked_to_id')
