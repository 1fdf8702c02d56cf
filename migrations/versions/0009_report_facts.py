"""Report facts on each call (services/reports/report_facts.py): its local day, time of day and weekday in
the trust's time zone, and each clock's duration in microseconds, with the covering indexes the
dashboard reads (calls, and their texts); existing calls are backfilled from their timestamps.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 03:00:00
"""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

CLOCKS = {
    'first_alert_sent_at': 'to_first_alert_us',
    'acknowledged_at': 'to_acknowledge_us',
    'reviewed_at': 'to_review_us',
    'caller_updated_at': 'to_caller_updated_us',
}
REPORT_INDEX = ['site_id', 'raised_local_month', 'status', 'cancel_kind', 'caller_route', 'concern_type',
                'clinical_review_needed', 'deterioration_outcome', 'change_in_care', 'raised_local_date', 'team_id',
                'raised_local_seconds', 'raised_local_weekday', 'to_first_alert_us', 'to_acknowledge_us', 'to_review_us',
                'to_caller_updated_us', 'raised_at', 'id']
HOUR_INDEX = ['site_id', 'raised_local_month', 'raised_local_hour', 'ward_id', 'raised_local_date', 'status',
              'cancel_kind']
MESSAGE_INDEX = ['concern_id', 'channel', 'audience', 'send_state', 'delivery_status', 'error_code', 'to_number']
BATCH = 5000


def upgrade():
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.add_column(sa.Column('raised_local_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('raised_local_month', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('raised_local_hour', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('raised_local_seconds', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('raised_local_weekday', sa.Integer(), nullable=True))
        for fact in CLOCKS.values():
            batch_op.add_column(sa.Column(fact, sa.BigInteger(), nullable=True))
    _backfill()
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.create_index('ix_concern_report', REPORT_INDEX, unique=False)
        batch_op.create_index('ix_concern_report_hour', HOUR_INDEX, unique=False)
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_report', MESSAGE_INDEX, unique=False)


def _timezone(bind) -> str:
    row = bind.execute(sa.text("SELECT timezone FROM settings WHERE id = 1")).first()
    return row[0] if row and row[0] else 'Europe/London'


def _backfill():
    bind = op.get_bind()
    tz_name = _timezone(bind)
    if bind.dialect.name == 'postgresql':
        # Exact in SQL: the wall clock from AT TIME ZONE; interval epochs are numeric (whole microseconds).
        local = "(raised_at AT TIME ZONE :tz)"
        durations = ", ".join(f"{fact} = round(extract(epoch FROM {clock} - raised_at) * 1000000)::bigint"
                              for clock, fact in CLOCKS.items())
        bind.execute(sa.text(  # noqa: S608 (column names from this file; the zone is a parameter)
            f"UPDATE concern SET raised_local_date = {local}::date, "
            f"raised_local_month = date_trunc('month', {local})::date, "
            f"raised_local_hour = extract(hour FROM {local})::integer, "
            f"raised_local_seconds = (extract(hour FROM {local}) * 3600 + extract(minute FROM {local}) * 60 "
            f"+ floor(extract(second FROM {local})))::integer, "
            f"raised_local_weekday = extract(isodow FROM {local})::integer - 1, {durations}"), {"tz": tz_name})
        return
    # SQLite has no time zones: read the timestamps (naive UTC text) in batches and work them out here.
    zone = ZoneInfo(tz_name)
    columns = ['raised_at', *CLOCKS]
    update = sa.text("UPDATE concern SET raised_local_date = :d, raised_local_month = :m, raised_local_hour = :h, "
                     "raised_local_seconds = :s, raised_local_weekday = :w, "
                     + ", ".join(f"{fact} = :{fact}" for fact in CLOCKS.values()) + " WHERE id = :id")  # noqa: S608
    last = 0
    while True:
        rows = bind.execute(sa.text(f"SELECT id, {', '.join(columns)} FROM concern WHERE id > :last "  # noqa: S608
                                    f"ORDER BY id LIMIT {BATCH}"), {"last": last}).all()
        if not rows:
            break
        values = []
        for row in rows:
            raised = _moment(row[1])
            wall = raised.astimezone(zone)
            value = {"id": row[0], "d": wall.date().isoformat(), "m": wall.date().replace(day=1).isoformat(),
                     "h": wall.hour, "w": wall.weekday(), "s": wall.hour * 3600 + wall.minute * 60 + wall.second}
            for fact, stamp in zip(CLOCKS.values(), row[2:], strict=True):
                value[fact] = None if stamp is None else (_moment(stamp) - raised) // timedelta(microseconds=1)
            values.append(value)
        bind.execute(update, values)
        last = rows[-1][0]


def _moment(value) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def downgrade():
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_report')
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.drop_index('ix_concern_report_hour')
        batch_op.drop_index('ix_concern_report')
        for fact in reversed(CLOCKS.values()):
            batch_op.drop_column(fact)
        batch_op.drop_column('raised_local_weekday')
        batch_op.drop_column('raised_local_seconds')
        batch_op.drop_column('raised_local_hour')
        batch_op.drop_column('raised_local_month')
        batch_op.drop_column('raised_local_date')
