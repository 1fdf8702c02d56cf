"""Failed messages: dealt with by whom and when, and which message a resend repeats

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 01:52:11.083739

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dealt_with_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('dealt_with_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('resend_of_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_message_dealt_with_by_id_user_account'), 'user_account', ['dealt_with_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_message_resend_of_id_message'), 'message', ['resend_of_id'], ['id'])



def downgrade():
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_message_resend_of_id_message'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_message_dealt_with_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('resend_of_id')
        batch_op.drop_column('dealt_with_by_id')
        batch_op.drop_column('dealt_with_at')

