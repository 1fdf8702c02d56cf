"""Beds as rows (docs/architecture.md#beds): a ward's beds were a newline list in ward.bed_labels; each becomes a
row of its own, in the list's order, so a relabel keeps the bed (and what later belongs to it). Blank lines are
skipped and a label repeated on one ward is kept once, as the form offered it once. The list's column goes.

Downgrading rebuilds the list from the beds still in use, in order; retired beds are lost to it, as the older
code had no place for them.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

ward = sa.table('ward', sa.column('id', sa.Integer), sa.column('bed_labels', sa.Text))
bed = sa.table(
    'bed',
    sa.column('id', sa.Integer),
    sa.column('ward_id', sa.Integer),
    sa.column('label', sa.String),
    sa.column('position', sa.Integer),
    sa.column('retired_at', sa.DateTime(timezone=True)),
)


def upgrade():
    op.create_table(
        'bed',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ward_id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=60), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['ward_id'], ['ward.id'], name=op.f('fk_bed_ward_id_ward')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bed')),
    )
    op.create_index(op.f('ix_bed_ward_id'), 'bed', ['ward_id'], unique=False)
    op.create_index(
        'uq_bed_ward_id_label_in_use',
        'bed',
        ['ward_id', 'label'],
        unique=True,
        sqlite_where=sa.text('retired_at IS NULL'),
        postgresql_where=sa.text('retired_at IS NULL'),
    )
    connection = op.get_bind()
    rows = []
    for ward_id, labels in connection.execute(
        sa.select(ward.c.id, ward.c.bed_labels).where(ward.c.bed_labels.is_not(None)).order_by(ward.c.id)
    ):
        rows.extend({'ward_id': ward_id, 'label': label, 'position': n} for n, label in enumerate(bed_list(labels)))
    if rows:
        connection.execute(bed.insert(), rows)
    with op.batch_alter_table('ward') as batch:
        batch.drop_column('bed_labels')


def bed_list(labels):
    """The beds a newline list offered, in order: blank lines skipped, a repeat kept once, each cut to fit."""
    seen = []
    for line in labels.splitlines():
        label = line.strip()[:60]
        if label and label not in seen:
            seen.append(label)
    return seen


def downgrade():
    with op.batch_alter_table('ward') as batch:
        batch.add_column(sa.Column('bed_labels', sa.Text(), nullable=True))
    connection = op.get_bind()
    lists = {}
    for ward_id, label in connection.execute(
        sa.select(bed.c.ward_id, bed.c.label)
        .where(bed.c.retired_at.is_(None))
        .order_by(bed.c.ward_id, bed.c.position, bed.c.id)
    ):
        lists.setdefault(ward_id, []).append(label)
    for ward_id, labels in lists.items():
        connection.execute(ward.update().where(ward.c.id == ward_id).values(bed_labels='\n'.join(labels)))
    op.drop_index('uq_bed_ward_id_label_in_use', table_name='bed')
    op.drop_index(op.f('ix_bed_ward_id'), table_name='bed')
    op.drop_table('bed')
