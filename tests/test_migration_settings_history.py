"""Migration 0028 (the settings history): the settings as they stand, and the trust's own words, become the first
version, dated from when they last changed, so the history says what families were shown from then on; a database
never set up starts with none (SQLite here, PostgreSQL too with TEST_DATABASE_URL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from tests.conftest import make_config
from tracker.extensions import db
from tracker.models import SettingsVersion
from tracker.services.setup import settings_history

SETTINGS = (
    "INSERT INTO settings (id, trust_name, timezone, emergency_instruction, outreach_phone, pals_phone, "
    "text_relatives_allowed, sms_allowed_regions, languages_enabled, privacy_contact, idle_timeout_minutes, "
    "mfa_for_all_staff, in_hours_start, in_hours_end, bank_holiday_region, retention_adult_years, "
    "retention_child_until_age, retention_complaint_years, retention_serious_incident_years, safeguarding_lead_name, "
    "linked_calls_counted, text_in_paging, device_address_ranges, updated_at) VALUES (1, 'Old Trust', "
    "'Europe/London', 'Press the buzzer.', '+442079460100', NULL, true, 'GB', 'en,pl', NULL, 20, false, :start, "
    ":end, 'scotland', 9, 25, 10, 20, 'Dr Lead', 'own', false, '', :updated)"
)


def test_the_settings_as_they_stand_become_the_first_version(empty_database_url, build_app):
    app = build_app(make_config(empty_database_url))
    with app.app_context():
        upgrade(revision="0027")
        db.session.execute(
            text(SETTINGS),
            {
                "start": "07:30:00.000000" if db.engine.dialect.name == "sqlite" else "07:30",
                "end": "19:00:00.000000" if db.engine.dialect.name == "sqlite" else "19:00",
                "updated": "2026-06-01 10:00:00",
            },
        )
        db.session.execute(
            text(
                "INSERT INTO trust_words (locale, key, text, updated_at) "
                "VALUES ('pl', 'emergency_instruction', 'Naciśnij przycisk.', '2026-07-01 09:00:00')"
            )
        )
        db.session.commit()
        db.session.remove()

        upgrade(revision="0028")
        (version,) = db.session.scalars(select(SettingsVersion)).all()
        assert version.actor_type == "migration" and version.actor_id is None and version.changed == []
        assert version.recorded_at == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # the latest change it holds
        snapshot = version.snapshot if isinstance(version.snapshot, dict) else json.loads(version.snapshot)
        # Every setting the table had at 0028; later migrations add settings of their own.
        added_later = {"access_review_unused_days", "spc_run_length"}
        assert set(snapshot) == {*settings_history.FIELDS, "words"} - added_later
        assert snapshot["emergency_instruction"] == "Press the buzzer." and snapshot["in_hours_start"] == "07:30"
        assert snapshot["text_relatives_allowed"] is True and snapshot["retention_adult_years"] == 9
        assert snapshot["words"] == {"pl": {"emergency_instruction": "Naciśnij przycisk."}}
        assert settings_history.in_force_at(datetime(2026, 8, 1, tzinfo=UTC)).id == version.id
        db.session.remove()

        downgrade(revision="0027")
        assert "settings_version" not in inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()


def test_a_database_never_set_up_starts_its_history_at_the_first_setup(empty_database_url, build_app):
    app = build_app(make_config(empty_database_url))
    with app.app_context():
        upgrade(revision="0028")
        assert db.session.scalars(select(SettingsVersion)).all() == []
        db.session.remove()
        db.engine.dispose()
