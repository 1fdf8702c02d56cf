"""Why a call ended beyond its coding: the patient died or was discharged (before or after review).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 14:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('concern') as batch:
        batch.add_column(sa.Column('local_reason', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('concern') as batch:
        batch.drop_column('local_reason')
