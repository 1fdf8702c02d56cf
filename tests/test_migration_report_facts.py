"""Migration 0009 (report facts): calls that exist before it are backfilled from their own
timestamps, in the trust's time zone, with the same numbers the app would have written (SQLite
works them out in Python, PostgreSQL in SQL: both run here, PostgreSQL with TEST_DATABASE_URL);
downgrading to 0008 takes the columns away again."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from tests.conftest import make_config
from tracker.extensions import db
from tracker.services.reports import report_facts

MONDAY, TUESDAY, WEDNESDAY, SUNDAY = 0, 1, 2, 6
US = 1_000_000


FACT_COLUMNS = {
    "raised_local_date",
    "raised_local_month",
    "raised_local_hour",
    "raised_local_seconds",
    "raised_local_weekday",
    "to_first_alert_us",
    "to_acknowledge_us",
    "to_review_us",
    "to_caller_updated_us",
}

# Calls as 0008 held them: id -> raised_at and its clocks (UTC; None where the step has not happened).
CALLS = {
    # 00:30 BST on Tuesday 1 July: the next local day and month; alert after 30.25 s, claim after 4 min 3.000007 s.
    1: {
        "raised_at": "2025-06-30 23:30:00.000001",
        "first_alert_sent_at": "2025-06-30 23:30:30.250001",
        "acknowledged_at": "2025-06-30 23:34:03.000008",
        "reviewed_at": None,
        "caller_updated_at": None,
    },
    # 01:30 BST, then reviewed at 01:30 GMT: the same wall clock, one real hour.
    2: {
        "raised_at": "2025-10-26 00:30:00",
        "first_alert_sent_at": None,
        "acknowledged_at": None,
        "reviewed_at": "2025-10-26 01:30:00",
        "caller_updated_at": None,
    },
    # 01:30 GMT, the second 01:30 of that night; the caller updated 400 days and 1 µs later.
    3: {
        "raised_at": "2025-10-26 01:30:00",
        "first_alert_sent_at": None,
        "acknowledged_at": None,
        "reviewed_at": None,
        "caller_updated_at": "2026-11-30 01:30:00.000001",
    },
    # New Year's Eve, the last microsecond of 2025 in winter: still 31 December; alert after 1.000001 s.
    4: {
        "raised_at": "2025-12-31 23:59:59.999999",
        "first_alert_sent_at": "2026-01-01 00:00:01",
        "acknowledged_at": None,
        "reviewed_at": None,
        "caller_updated_at": None,
    },
}

LONDON = {
    1: (date(2025, 7, 1), date(2025, 7, 1), 0, 1800, TUESDAY),
    2: (date(2025, 10, 26), date(2025, 10, 1), 1, 5400, SUNDAY),
    3: (date(2025, 10, 26), date(2025, 10, 1), 1, 5400, SUNDAY),
    4: (date(2025, 12, 31), date(2025, 12, 1), 23, 86399, WEDNESDAY),
}
NEW_YORK = {
    1: (date(2025, 6, 30), date(2025, 6, 1), 19, 19 * 3600 + 1800, MONDAY),
    2: (date(2025, 10, 25), date(2025, 10, 1), 20, 20 * 3600 + 1800, 5),
    3: (date(2025, 10, 25), date(2025, 10, 1), 21, 21 * 3600 + 1800, 5),
    4: (date(2025, 12, 31), date(2025, 12, 1), 18, 18 * 3600 + 3599, WEDNESDAY),
}
DURATIONS = {
    1: (30_250_000, 243 * US + 7, None, None),
    2: (None, None, 3600 * US, None),
    3: (None, None, None, 400 * 86400 * US + 1),
    4: (1_000_001, None, None, None),
}


def stamp(value: str | None, dialect: str):
    """A UTC timestamp as raw SQL would write it: naive UTC text on SQLite (as the app stores it),
    an aware moment on PostgreSQL (timestamptz, whatever the session's TimeZone)."""
    if value is None:
        return None
    return value if dialect == "sqlite" else datetime.fromisoformat(value).replace(tzinfo=UTC)


def insert_calls_at_0008(timezone: str | None) -> None:
    dialect = db.engine.dialect.name
    statements = [
        "INSERT INTO site (id, code, name, active) VALUES (1, 's', 'Site', true)",
        "INSERT INTO team (id, code, site_id, name, population, public_phone, ack_target_minutes, "
        "review_target_minutes, active) VALUES (1, 't', 1, 'Team', 'adult', '+442079460101', 5, 30, true)",
        "INSERT INTO ward (id, code, name, site_id, team_id, population, kiosk_default) "
        "VALUES (1, 'w', 'Ward', 1, 1, 'adult', false)",
    ]
    for statement in statements:
        db.session.execute(text(statement))
    if timezone is not None:
        db.session.execute(
            text(
                "INSERT INTO settings (id, trust_name, timezone, emergency_instruction, outreach_phone, "
                "text_relatives_allowed, sms_allowed_regions, languages_enabled, updated_at) VALUES (1, 'Trust', :tz, "
                "'Call 2222.', '+442079460100', false, 'GB', 'en', :now)"
            ),
            {"tz": timezone, "now": stamp("2025-01-01 00:00:00", dialect)},
        )
    for concern_id, clocks in CALLS.items():
        db.session.execute(
            text(
                "INSERT INTO concern (id, reference, submission_id, ward_id, site_id, team_id, caller_route, "
                "callback_textable, sms_consent, locale, interpreter_needed, worry_categories, channel, status, version, "
                "repeat_count, flagged_burst, flagged_automated, raised_at, updated_at, change_in_care, "
                "first_alert_sent_at, acknowledged_at, reviewed_at, caller_updated_at) VALUES (:id, :ref, :sub, 1, 1, 1, "
                "'patient', false, false, 'en', false, '[]', 'own_device', 'new', 1, 0, false, false, :raised_at, "
                ":raised_at, '[]', :first_alert_sent_at, :acknowledged_at, :reviewed_at, :caller_updated_at)"
            ),
            {
                "id": concern_id,
                "ref": f"MR-MIG{concern_id}-00",
                "sub": f"migration-{concern_id}",
                **{name: stamp(value, dialect) for name, value in clocks.items()},
            },
        )
    db.session.commit()


def stored_facts() -> dict[int, tuple]:
    rows = db.session.execute(
        text(
            "SELECT id, raised_local_date, raised_local_month, raised_local_hour, raised_local_seconds, "
            "raised_local_weekday, to_first_alert_us, to_acknowledge_us, to_review_us, to_caller_updated_us "
            "FROM concern ORDER BY id"
        )
    ).all()
    as_date = date.fromisoformat if db.engine.dialect.name == "sqlite" else (lambda value: value)
    return {row[0]: (as_date(row[1]), as_date(row[2]), *row[3:]) for row in rows}


@pytest.mark.parametrize(
    ("timezone", "local"),
    [(None, LONDON), ("Europe/London", LONDON), ("America/New_York", NEW_YORK)],
    ids=["no settings yet: London", "London", "New York"],
)
def test_upgrading_to_0009_backfills_each_existing_calls_facts_from_its_timestamps(
    empty_database_url, build_app, timezone, local
):
    app = build_app(make_config(empty_database_url))
    with app.app_context():
        upgrade()
        db.session.remove()
        downgrade(revision="0008")
        assert not FACT_COLUMNS & {column["name"] for column in inspect(db.engine).get_columns("concern")}
        insert_calls_at_0008(timezone)
        db.session.remove()

        upgrade(revision="0009")
        assert stored_facts() == {concern_id: (*local[concern_id], *DURATIONS[concern_id]) for concern_id in CALLS}
        # The same numbers the app writes and checks.
        assert report_facts.check(timezone or "Europe/London") == (0, [])
        db.session.remove()
        db.engine.dispose()
