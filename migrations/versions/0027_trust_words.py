"""The trust's own words in the families' languages (docs/architecture.md#languages).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 18:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'trust_words',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_words')),
        sa.UniqueConstraint('locale', 'key', name='uq_trust_words_locale_key'),
    )


def downgrade():
    op.drop_table('trust_words')
