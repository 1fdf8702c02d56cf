"""A call's age group (under 18, 18 or over, unknown), asked at close when no date of birth is
known, so a child's record on an adult ward is kept by the children's rule. Existing calls are
"unknown", which keeps the rule each followed before (the ward's).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 13:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('concern') as batch:
        batch.add_column(sa.Column('age_group', sa.String(length=16), nullable=False, server_default='unknown'))


def downgrade():
    with op.batch_alter_table('concern') as batch:
        batch.drop_column('age_group')
