"""Daily rollups for the managers' dashboard: a site's figures for each local day, added up once, and the trigger
that marks a day stale whenever one of its calls is written (docs/architecture.md#daily-rollups).

The table starts empty: the dashboard counts a day from the calls until it is built (on the first view that
covers it, or `flask tracker check-rollups --repair`).

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-04 20:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None

# Days this recent are always counted live (tracker/services/reports/rollups.py: LIVE_DAYS), so writes to them
# (every new call, claim and alert) never touch report_day. Both sides read the database's own clock.
SQLITE_OLD_ENOUGH = "date('now', '-3 days')"
SQLITE_BUMP = """INSERT INTO report_day (site_id, local_day, generation)
    SELECT {row}.site_id, {row}.raised_local_date, 1
    WHERE {row}.site_id IS NOT NULL AND {row}.raised_local_date < """ + SQLITE_OLD_ENOUGH + """
    ON CONFLICT (site_id, local_day) DO UPDATE SET generation = report_day.generation + 1;"""

PG_FUNCTION = """
CREATE FUNCTION report_day_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_enough date := (now() AT TIME ZONE 'UTC')::date - 3;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.site_id IS NOT NULL AND OLD.raised_local_date < old_enough THEN
        INSERT INTO report_day (site_id, local_day, generation) VALUES (OLD.site_id, OLD.raised_local_date, 1)
        ON CONFLICT (site_id, local_day) DO UPDATE SET generation = report_day.generation + 1;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.site_id IS NOT NULL AND NEW.raised_local_date < old_enough THEN
        INSERT INTO report_day (site_id, local_day, generation) VALUES (NEW.site_id, NEW.raised_local_date, 1)
        ON CONFLICT (site_id, local_day) DO UPDATE SET generation = report_day.generation + 1;
    END IF;
    RETURN NULL;
END;
$$
"""


def upgrade():
    op.create_table(
        'report_day',
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('local_day', sa.Date(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('built_generation', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=True),
        sa.Column('built_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('counts', sa.Text(), nullable=True),
        sa.Column('durations', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('site_id', 'local_day', name=op.f('pk_report_day')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER concern_report_day AFTER INSERT OR UPDATE OR DELETE ON concern "
            "FOR EACH ROW EXECUTE FUNCTION report_day_changed()"
        )
        return
    op.execute(f"CREATE TRIGGER concern_report_day_insert AFTER INSERT ON concern BEGIN {SQLITE_BUMP.format(row='NEW')} END")
    op.execute(
        "CREATE TRIGGER concern_report_day_update AFTER UPDATE ON concern BEGIN "
        f"{SQLITE_BUMP.format(row='OLD')} {SQLITE_BUMP.format(row='NEW')} END"
    )
    op.execute(f"CREATE TRIGGER concern_report_day_delete AFTER DELETE ON concern BEGIN {SQLITE_BUMP.format(row='OLD')} END")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS concern_report_day ON concern")
        op.execute("DROP FUNCTION IF EXISTS report_day_changed()")
    else:
        for name in ('insert', 'update', 'delete'):
            op.execute(f"DROP TRIGGER IF EXISTS concern_report_day_{name}")
    op.drop_table('report_day')
