"""Text-in calls: a text from a number with no call becomes a call with no ward until a clinician sets it (so
`concern.ward_id` may be empty), on the queue of the team the trust chooses, paging only if the trust turns it on.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 16:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('concern') as batch:
        batch.alter_column('ward_id', existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table('settings') as batch:
        batch.add_column(sa.Column('text_in_team_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('text_in_paging', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_foreign_key(batch.f('fk_settings_text_in_team_id_team'), 'team', ['text_in_team_id'], ['id'])


def downgrade():
    # A text-in call still without a ward cannot be kept in the older schema: the downgrade refuses rather than
    # destroy it (set its ward, or keep this version).
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT COUNT(*) FROM concern WHERE ward_id IS NULL")).scalar():
        raise RuntimeError("Some text-in calls have no ward yet: set their wards before downgrading")
    with op.batch_alter_table('settings') as batch:
        batch.drop_constraint(batch.f('fk_settings_text_in_team_id_team'), type_='foreignkey')
        batch.drop_column('text_in_paging')
        batch.drop_column('text_in_team_id')
    with op.batch_alter_table('concern') as batch:
        batch.alter_column('ward_id', existing_type=sa.Integer(), nullable=False)
