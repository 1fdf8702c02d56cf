"""The settings history (docs/architecture.md#set-up): every change to the trust's settings is kept as a version
(values, who, when), its audit row names the version and keeps no personal data, and the version in force at any
moment can be found again: what families were shown on a given night."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.conftest import build_trust, create_staff
from tracker.extensions import db
from tracker.models import AuditEvent, SettingsVersion
from tracker.services.records import audit, retention
from tracker.services.reports.working_hours import save_working_hours
from tracker.services.setup import devices, hospital, settings_changes, settings_history, trust_words

NIGHT = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)


@pytest.fixture
def built(ctx):
    with time_machine.travel(NIGHT - timedelta(days=30), tick=False):
        return build_trust()


def versions() -> list[SettingsVersion]:
    return list(db.session.scalars(select(SettingsVersion).order_by(SettingsVersion.id)))


def last_audit(action: str) -> AuditEvent:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()[-1]


def test_setting_up_the_trust_starts_the_history_with_every_setting(built):
    (first,) = versions()
    assert first.actor_type == "cli" and first.actor_id is None
    assert first.snapshot["emergency_instruction"] == "Press the red buzzer or ask any nurse now. Call 2222."
    assert first.snapshot["outreach_phone"] == "+442079460100" and first.snapshot["pals_phone"] == "+442079460199"
    assert first.snapshot["in_hours_start"] == "08:00" and first.snapshot["retention_adult_years"] == 8
    assert set(settings_history.FIELDS) <= set(first.snapshot) and first.snapshot["words"] == {}
    event = last_audit("settings_changed")
    assert (event.object_type, event.object_id) == ("settings_version", first.id)


def test_each_service_keeps_a_version_that_its_audit_row_names(app, built):
    admin_id, _ = create_staff(app, "admin")
    actor = audit.Actor.user(admin_id)
    changes = [
        ("settings_changed", lambda: settings_changes.change_settings(actor, pals_phone="020 7946 0999")),
        ("retention_changed", lambda: retention.save_retention(actor, retention_adult_years=10)),
        ("working_hours_changed", lambda: save_working_hours(actor, start=time(9), end=time(17), region="scotland")),
        (
            "safeguarding_lead_saved",
            lambda: hospital.save_safeguarding_lead(actor, name="Dr A Lead", phone="07400 900555"),
        ),
        ("text_in_settings_saved", lambda: hospital.save_text_in(actor, team_code="gen-ccot", paging=True)),
        ("linked_calls_counting_saved", lambda: hospital.save_linked_calls_counted(actor, "once")),
        ("device_address_ranges_set", lambda: devices.save_address_ranges(actor, "10.20.0.0/16")),
        ("languages_enabled_set", lambda: trust_words.save_languages(actor, "pl")),
        (
            "trust_words_set",
            lambda: trust_words.save_words(actor, "pl", "emergency_instruction", "Naciśnij czerwony przycisk."),
        ),
    ]
    for action, change in changes:
        change()
        db.session.commit()  # each its own transaction: a version each
        version = versions()[-1]
        event = last_audit(action)
        assert (event.object_type, event.object_id) == ("settings_version", version.id), action
        assert (version.actor_type, version.actor_id) == ("user", admin_id), action
    kept = versions()[-1].snapshot
    assert kept["pals_phone"] == "+442079460999" and kept["retention_adult_years"] == 10
    assert (kept["in_hours_start"], kept["in_hours_end"], kept["bank_holiday_region"]) == ("09:00", "17:00", "scotland")
    assert (kept["safeguarding_lead_name"], kept["safeguarding_lead_phone"]) == ("Dr A Lead", "+447400900555")
    assert kept["text_in_paging"] is True and kept["linked_calls_counted"] == "once"
    assert kept["device_address_ranges"] == "10.20.0.0/16" and kept["languages_enabled"] == "en,pl"
    assert kept["words"] == {"pl": {"emergency_instruction": "Naciśnij czerwony przycisk."}}
    assert len(versions()) == 1 + len(changes)
    # The safeguarding lead is kept in the history, never in the audit.
    audit_text = json.dumps([e.changes for e in db.session.scalars(select(AuditEvent))])
    assert "Dr A Lead" not in audit_text and "900555" not in audit_text


def test_changes_in_one_transaction_are_one_version_and_no_change_makes_none(built):
    actor = audit.Actor.cli()
    before = len(versions())
    settings_changes.save(
        actor,
        "reports",
        {
            "timezone": "Europe/London",
            "in_hours_start": time(7),
            "in_hours_end": time(19),
            "bank_holiday_region": "england-and-wales",
            "linked_calls_counted": "once",
        },
    )
    db.session.commit()
    assert len(versions()) == before + 1
    assert versions()[-1].changed == ["in_hours_end", "in_hours_start", "linked_calls_counted"]
    assert last_audit("working_hours_changed").object_id == versions()[-1].id
    assert last_audit("linked_calls_counting_saved").object_id == versions()[-1].id

    hospital.save_linked_calls_counted(actor, "once")  # as it is
    db.session.commit()
    assert len(versions()) == before + 1
    assert last_audit("linked_calls_counting_saved").object_id == versions()[-1].id  # the version in force


def test_the_version_in_force_at_a_moment_is_found_again(built):
    actor = audit.Actor.cli()
    first = versions()[-1]
    with time_machine.travel(NIGHT - timedelta(hours=3), tick=False):
        settings_changes.change_settings(actor, emergency_instruction="Press the buzzer by the bed.")
        db.session.commit()
    evening = versions()[-1]
    with time_machine.travel(NIGHT + timedelta(hours=6), tick=False):
        settings_changes.change_settings(actor, emergency_instruction="Pull the red cord.")
        db.session.commit()
    assert settings_history.in_force_at(NIGHT).id == evening.id
    assert settings_history.in_force_at(NIGHT).snapshot["emergency_instruction"] == "Press the buzzer by the bed."
    assert settings_history.in_force_at(NIGHT - timedelta(hours=4)).id == first.id
    assert settings_history.in_force_at(NIGHT + timedelta(days=1)).snapshot["emergency_instruction"] == (
        "Pull the red cord."
    )
    assert settings_history.in_force_at(NIGHT - timedelta(days=60)) is None  # before the history begins


def test_a_shorter_retention_period_is_marked_and_a_longer_one_is_not(built):
    actor = audit.Actor.cli()
    retention.save_retention(actor, retention_complaint_years=12)
    db.session.commit()
    assert versions()[-1].retention_shortened is False and retention.shortened_recently() is None
    retention.save_retention(actor, retention_complaint_years=10, retention_adult_years=9)
    db.session.commit()
    assert versions()[-1].retention_shortened is True
    assert retention.shortened_recently().id == versions()[-1].id
    with time_machine.travel(datetime.now(UTC) + timedelta(days=15), tick=False):
        assert retention.shortened_recently() is None


def test_the_purges_count_with_other_periods_reads_without_changing_the_trusts(built):
    """The settings page's retention check counts with periods not saved: the trust's own stay as they are."""
    from tests.services.test_retention import old_call

    with time_machine.travel(NIGHT, tick=False):
        reference = old_call(built["ward"], 1, when=datetime(2016, 11, 1, tzinfo=UTC)).reference
        preview = settings_changes.retention_preview(
            {**{name: retention.MINIMUMS[name] for name in settings_changes.RETENTION}, "retention_adult_years": 8}
        )
        assert preview.now.due == 1 and preview.more == 0
        retention.save_retention(audit.Actor.cli(), retention_adult_years=12)
        db.session.commit()
        preview = settings_changes.retention_preview(
            {name: retention.MINIMUMS[name] for name in settings_changes.RETENTION}
        )
        assert (preview.now.due, preview.then.due, preview.more) == (0, 1, 1)
        assert preview.shortened == ("retention_adult_years",)
    assert (
        db.session.scalar(select(SettingsVersion.snapshot).order_by(SettingsVersion.id.desc()).limit(1))[
            "retention_adult_years"
        ]
        == 12
    )
    assert reference
