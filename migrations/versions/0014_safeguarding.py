"""The safeguarding flag on a call, and the trust's safeguarding lead (named on a flagged call).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 14:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('concern') as batch:
        batch.add_column(sa.Column('safeguarding', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('settings') as batch:
        batch.add_column(sa.Column('safeguarding_lead_name', sa.String(length=120), nullable=True))
        batch.add_column(sa.Column('safeguarding_lead_phone', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('settings') as batch:
        batch.drop_column('safeguarding_lead_phone')
        batch.drop_column('safeguarding_lead_name')
    with op.batch_alter_table('concern') as batch:
        batch.drop_column('safeguarding')
