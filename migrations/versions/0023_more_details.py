"""The family form's optional second page: when a confirmation's one chance to add details was used, and when a
family said after sending that they need an interpreter (flagged to whoever has the call).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('confirmation') as batch:
        batch.add_column(sa.Column('details_added_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('concern') as batch:
        batch.add_column(sa.Column('interpreter_added_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('concern') as batch:
        batch.drop_column('interpreter_added_at')
    with op.batch_alter_table('confirmation') as batch:
        batch.drop_column('details_added_at')
