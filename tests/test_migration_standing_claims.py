"""Migration 0022 (standing claims): "raised to claimed" of every past call runs to the claim that stood, worked
out from the audit trail. Calls are written as the revision before it left them (a released call kept its
first claim's time); only the calls that went back on the queue change, and their report facts with them
(SQLite here, PostgreSQL too with TEST_DATABASE_URL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import text

from tests.conftest import make_config
from tracker.extensions import db
from tracker.services.reports import report_facts

US = 1_000_000
RAISED = "2025-06-30 23:30:00"  # each call is raised then; its clocks and audit rows are minutes after
FIRST_CLAIM = "2025-06-30 23:34:00.000007"

# id -> (status, acknowledged_at as the old code kept it, reopened_at, its audit trail: (time, action, changes))
CALLS = {
    # Claimed, released, claimed again by someone else: measured to the second claim, 20 minutes.
    1: (
        "acknowledged",
        FIRST_CLAIM,
        None,
        [
            ("23:34:00.000009", "claimed", {"status": "acknowledged"}),
            ("23:40:00", "released", {"status": "new", "note_id": 1}),
            ("23:50:00", "claimed", {"status": "acknowledged"}),
        ],
    ),
    # Released and never claimed again: still waiting, so not timed as claimed.
    2: (
        "new",
        FIRST_CLAIM,
        None,
        [("23:34:00.000009", "claimed", {"status": "acknowledged"}), ("23:40:00", "released", {"status": "new"})],
    ),
    # Handed over, never released: the first claim stood, kept to the microsecond.
    3: (
        "acknowledged",
        FIRST_CLAIM,
        None,
        [("23:34:00.000009", "claimed", {"status": "acknowledged"}), ("23:39:00", "handed_over", {"to_user_id": 2})],
    ),
    # Closed, reopened, then released: the first episode's claim stood.
    4: (
        "new",
        FIRST_CLAIM,
        "2025-07-01 01:30:00",
        [
            ("23:34:00.000009", "claimed", {"status": "acknowledged"}),
            ("23:59:00", "closed", {"concern_type": "communication"}),
            ("01:30:00", "reopened", {"note_id": 2}),
            ("01:31:00", "released", {"status": "new"}),
        ],
    ),
    # A linked call: followed its call's claim, went back with its release, followed the next claim.
    5: (
        "acknowledged",
        "2025-06-30 23:35:00",
        None,
        [
            ("23:35:00", "linked_call_followed", {"linked_to_id": 1, "event": "claimed", "status": "acknowledged"}),
            ("23:40:00", "linked_call_followed", {"linked_to_id": 1, "event": "released", "status": "new"}),
            ("23:50:00", "linked_call_followed", {"linked_to_id": 1, "event": "claimed", "status": "acknowledged"}),
        ],
    ),
    # Unlinked after following a claim, then claimed on its own at 23:45.
    6: (
        "acknowledged",
        "2025-06-30 23:35:00",
        None,
        [
            ("23:35:00", "linked_call_followed", {"linked_to_id": 1, "event": "claimed", "status": "acknowledged"}),
            ("23:38:00", "unlinked", {"linked_to_id": 1, "note_id": 3, "status": "new"}),
            ("23:45:00", "claimed", {"status": "acknowledged"}),
        ],
    ),
    # Released, then cancelled as withdrawn: never claimed for good.
    7: (
        "cancelled",
        FIRST_CLAIM,
        None,
        [
            ("23:34:00.000009", "claimed", {"status": "acknowledged"}),
            ("23:40:00", "released", {"status": "new"}),
            ("23:55:00", "cancelled", {"cancel_kind": "withdrawn"}),
        ],
    ),
}
# id -> (acknowledged_at, to_acknowledge_us) after the migration
EXPECTED = {
    1: ("2025-06-30 23:50:00", 20 * 60 * US),
    2: (None, None),
    3: (FIRST_CLAIM, 4 * 60 * US + 7),
    4: (FIRST_CLAIM, 4 * 60 * US + 7),
    5: ("2025-06-30 23:50:00", 20 * 60 * US),
    6: ("2025-06-30 23:45:00", 15 * 60 * US),
    7: (None, None),
}


def stamp(value: str | None, dialect: str):
    """Naive UTC text on SQLite (as the app stores it), an aware moment on PostgreSQL."""
    if value is None:
        return None
    return value if dialect == "sqlite" else datetime.fromisoformat(value).replace(tzinfo=UTC)


def at_time(clock: str) -> str:
    return f"2025-06-30 {clock}" if clock.startswith("23") else f"2025-07-01 {clock}"


def insert_calls(dialect: str) -> None:
    for statement in (
        "INSERT INTO site (id, code, name, active) VALUES (1, 's', 'Site', true)",
        "INSERT INTO team (id, code, site_id, name, population, public_phone, ack_target_minutes, "
        "review_target_minutes, active) VALUES (1, 't', 1, 'Team', 'adult', '+442079460101', 5, 30, true)",
        "INSERT INTO ward (id, code, name, site_id, team_id, population, kiosk_default) "
        "VALUES (1, 'w', 'Ward', 1, 1, 'adult', false)",
    ):
        db.session.execute(text(statement))
    event_id = 0
    raised_at = datetime.fromisoformat(RAISED).replace(tzinfo=UTC)
    for concern_id, (status, acknowledged_at, reopened_at, trail) in CALLS.items():
        # Every report fact as the app wrote it then: the claim clock ran to the first claim.
        facts = report_facts.raised_values(
            raised_at, "Europe/London", {"acknowledged_at": datetime.fromisoformat(acknowledged_at).replace(tzinfo=UTC)}
        )
        db.session.execute(
            text(
                "INSERT INTO concern (id, reference, submission_id, ward_id, site_id, team_id, caller_route, "
                "callback_textable, sms_consent, locale, interpreter_needed, worry_categories, channel, status, version, "
                "repeat_count, flagged_burst, flagged_automated, raised_at, updated_at, change_in_care, "
                "escalation_position, review_nudges, unread_reply, legal_hold, serious_incident, complaint, "
                f"acknowledged_at, reopened_at, {', '.join(facts)}) VALUES (:id, :ref, :sub, 1, 1, 1, 'patient', "
                "false, false, 'en', false, '[]', 'own_device', :status, 1, 0, false, false, :raised_at, :raised_at, "
                f"'[]', 0, 0, false, false, false, false, :acknowledged_at, :reopened_at, "
                f"{', '.join(':' + name for name in facts)})"  # noqa: S608 (the report facts' own names)
            ),
            {
                "id": concern_id,
                "ref": f"MR-CLM{concern_id}-00",
                "sub": f"claims-{concern_id}",
                "status": status,
                "raised_at": stamp(RAISED, dialect),
                "acknowledged_at": stamp(acknowledged_at, dialect),
                "reopened_at": stamp(reopened_at, dialect),
                **facts,
            },
        )
        for clock, action, changes in trail:
            event_id += 1
            # The changes are written as a literal: PostgreSQL casts it to jsonb, SQLite keeps the text.
            literal = json.dumps(changes).replace("'", "''")
            db.session.execute(
                text(
                    "INSERT INTO audit_event (id, occurred_at, actor_type, actor_id, action, object_type, object_id, "
                    f"concern_id, changes, prev_hash, hash) VALUES (:id, :at, 'user', 1, :action, 'concern', "
                    f":concern_id, :concern_id, '{literal}', :prev, :hash)"  # noqa: S608 (json.dumps of this file's dicts)
                ),
                {
                    "id": event_id,
                    "at": stamp(at_time(clock), dialect),
                    "action": action,
                    "concern_id": concern_id,
                    "prev": f"{event_id - 1:064x}",
                    "hash": f"{event_id:064x}",
                },
            )
    db.session.commit()


def moment(value) -> datetime | None:
    """A stored time as a naive UTC datetime, whichever database it came from."""
    if value is None:
        return None
    value = datetime.fromisoformat(value) if isinstance(value, str) else value
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def claims() -> dict[int, tuple]:
    rows = db.session.execute(text("SELECT id, acknowledged_at, to_acknowledge_us FROM concern ORDER BY id")).all()
    return {row[0]: (moment(row[1]), row[2]) for row in rows}


def test_upgrading_measures_raised_to_claimed_to_the_claim_that_stood(empty_database_url, build_app):
    app = build_app(make_config(empty_database_url))
    with app.app_context():
        scripts = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
        before = scripts.get_revision("0022").down_revision
        upgrade(revision=before)
        insert_calls(db.engine.dialect.name)
        db.session.remove()

        upgrade(revision="0022")
        assert claims() == {concern_id: (moment(at), us) for concern_id, (at, us) in EXPECTED.items()}
        # The same facts the app would write from these times.
        assert report_facts.check("Europe/London") == (0, [])
        db.session.remove()
        db.engine.dispose()
