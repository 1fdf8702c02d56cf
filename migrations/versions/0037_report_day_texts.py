"""The dashboard's texts from the daily rollups: a trigger on `message` marks the day of a text's call stale
whenever the text is written (a text sent, failed or delivered late about an old call), and a small partial index
for the texts to numbers opted out since, which are matched when the dashboard is read
(docs/architecture.md#daily-rollups). The rollups' VERSION changed with it, so every kept day is built again.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-05 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

UNSENT_FAMILY = "audience = 'family' AND channel = 'sms' AND send_state IN ('cancelled', 'dead')"  # tracker.models.UNSENT_FAMILY_SQL
# Only what the rollups count changes a day (tracker/services/reports/rollups.py: `_count_texts`): the outbox's
# other writes (leases, attempts, due times) fire nothing.
COLUMNS = "concern_id, audience, channel, send_state, delivery_status, error_code"

# As migration 0034's trigger on `concern`: days this recent are counted live, by the database's clock.
SQLITE_BUMP = """INSERT INTO report_day (site_id, local_day, generation)
    SELECT concern.site_id, concern.raised_local_date, 1 FROM concern
    WHERE concern.id = {row}.concern_id AND concern.site_id IS NOT NULL
      AND concern.raised_local_date < date('now', '-3 days')
    ON CONFLICT (site_id, local_day) DO UPDATE SET generation = report_day.generation + 1;"""

PG_BUMP = """INSERT INTO report_day (site_id, local_day, generation)
        SELECT concern.site_id, concern.raised_local_date, 1 FROM concern
        WHERE concern.id = {row}.concern_id AND concern.site_id IS NOT NULL AND concern.raised_local_date < old_enough
        ON CONFLICT (site_id, local_day) DO UPDATE SET generation = report_day.generation + 1;"""

PG_FUNCTION = f"""
CREATE FUNCTION report_day_text_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_enough date := (now() AT TIME ZONE 'UTC')::date - 3;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.concern_id IS NOT NULL THEN
        {PG_BUMP.format(row="OLD")}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.concern_id IS NOT NULL THEN
        {PG_BUMP.format(row="NEW")}
    END IF;
    RETURN NULL;
END;
$$
"""


def upgrade():
    op.create_index(
        "ix_message_unsent_family",
        "message",
        ["to_number", "concern_id", "error_code"],
        sqlite_where=sa.text(UNSENT_FAMILY),
        postgresql_where=sa.text(UNSENT_FAMILY),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(
            f"CREATE TRIGGER message_report_day AFTER INSERT OR UPDATE OF {COLUMNS} OR DELETE ON message "
            "FOR EACH ROW EXECUTE FUNCTION report_day_text_changed()"
        )
        return
    op.execute(
        f"CREATE TRIGGER message_report_day_insert AFTER INSERT ON message BEGIN {SQLITE_BUMP.format(row='NEW')} END"
    )
    op.execute(
        f"CREATE TRIGGER message_report_day_update AFTER UPDATE OF {COLUMNS} ON message BEGIN "
        f"{SQLITE_BUMP.format(row='OLD')} {SQLITE_BUMP.format(row='NEW')} END"
    )
    op.execute(
        f"CREATE TRIGGER message_report_day_delete AFTER DELETE ON message BEGIN {SQLITE_BUMP.format(row='OLD')} END"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS message_report_day ON message")
        op.execute("DROP FUNCTION IF EXISTS report_day_text_changed()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS message_report_day_{name}")
    op.drop_index("ix_message_unsent_family", table_name="message")
