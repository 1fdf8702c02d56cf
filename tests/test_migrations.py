"""The schema comes only from migrations: upgrade from empty works, the models match what the
migrations build (so a missing migration fails here), and downgrade reverses it."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from tests.conftest import make_config
from tracker.extensions import db
from tracker.models import Base


def test_the_models_match_the_schema_the_migrations_build(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"the models and migrations differ; add a migration: {differences}"


def test_upgrade_from_empty_then_downgrade_and_upgrade_again(empty_database_url, build_app):
    app = build_app(make_config(empty_database_url))
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"concern", "message", "audit_event", "audit_chain_head", "ward"} <= tables
        head = db.session.execute(text("SELECT last_event_id, last_hash FROM audit_chain_head WHERE id = 1")).one()
        assert head == (0, "0" * 64)
        db.session.remove()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert {"concern", "message", "audit_event"} <= set(inspect(db.engine).get_table_names())
        db.session.remove()
        db.engine.dispose()


@pytest.mark.postgres
def test_postgres_refuses_to_update_or_delete_audit_rows(app, ctx):
    from tracker.services.records import audit

    audit.record("test_event", audit.Actor.system())
    db.session.commit()
    for statement in ("UPDATE audit_event SET action = 'edited'", "DELETE FROM audit_event"):
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()


def test_the_triage_migration_keeps_each_clinicians_team_and_dates_existing_concerns(empty_database_url, build_app):
    app = build_app(make_config(empty_database_url))
    with app.app_context():
        upgrade(revision="0001")
        statements = [
            "INSERT INTO site (id, code, name, active) VALUES (1, 's', 'Site', true)",
            "INSERT INTO team (id, code, site_id, name, population, public_phone, ack_target_minutes, "
            "review_target_minutes, active) VALUES (1, 't', 1, 'Team', 'adult', '+442079460101', 5, 30, true)",
            "INSERT INTO ward (id, code, name, site_id, team_id, population, kiosk_default) "
            "VALUES (1, 'w', 'Ward', 1, 1, 'adult', false)",
            "INSERT INTO user_account (id, email, display_name, role, team_id, password_hash, must_change_password, "
            "active, created_at) VALUES (1, 'a@b.invalid', 'A', 'outreach', 1, 'x', true, true, '2026-01-01 00:00:00')",
            "INSERT INTO concern (id, reference, submission_id, ward_id, site_id, team_id, caller_route, "
            "callback_textable, sms_consent, locale, interpreter_needed, worry_categories, channel, status, version, "
            "repeat_count, flagged_burst, flagged_automated, raised_at) VALUES (1, 'MR-AAAA-AA', 'sub', 1, 1, 1, "
            "'patient', false, false, 'en', false, '[]', 'tablet', 'new', 1, 0, false, false, '2026-01-02 03:04:05')",
        ]
        for statement in statements:
            db.session.execute(text(statement))
        db.session.commit()
        upgrade()
        assert db.session.execute(text("SELECT user_id, team_id FROM user_team")).all() == [(1, 1)]
        row = db.session.execute(text("SELECT updated_at, change_in_care FROM concern")).one()
        assert str(row[0]).startswith("2026-01-02 03:04:05") and row[1] in ("[]", [])
        assert db.session.execute(text("SELECT idle_timeout_minutes FROM settings")).all() == []
        db.session.remove()
        db.engine.dispose()


def test_the_paging_migration_dates_reopened_calls_from_the_audit_and_gives_policies_the_ack_ceiling(
    empty_database_url, build_app
):
    app = build_app(make_config(empty_database_url))
    with app.app_context():
        upgrade(revision="0010")
        statements = [
            "INSERT INTO site (id, code, name, active) VALUES (1, 's', 'Site', true)",
            "INSERT INTO team (id, code, site_id, name, population, public_phone, ack_target_minutes, "
            "review_target_minutes, active) VALUES (1, 't', 1, 'Team', 'adult', '+442079460101', 5, 30, true)",
            "INSERT INTO ward (id, code, name, site_id, team_id, population, kiosk_default) "
            "VALUES (1, 'w', 'Ward', 1, 1, 'adult', false)",
            "INSERT INTO escalation_policy (id, team_id, repeat_times, fallback_name, fallback_number, "
            "fallback_channel, fallback_wait_minutes, ack_pause_minutes, alert_accept_seconds, "
            "review_reminder_minutes, updated_at) VALUES (1, 1, 1, 'Site manager', '+442079460999', 'voice', 10, 15, "
            "120, 10, '2026-01-01 00:00:00')",
        ]
        for reference, status in (("MR-AAAA-AA", "acknowledged"), ("MR-BBBB-BB", "closed")):
            number = 1 if status == "acknowledged" else 2
            statements.append(
                "INSERT INTO concern (id, reference, submission_id, ward_id, site_id, team_id, caller_route, "
                "callback_textable, sms_consent, locale, interpreter_needed, worry_categories, channel, status, "
                "version, repeat_count, flagged_burst, flagged_automated, raised_at, updated_at, reviewed_at, "
                "escalation_position, review_nudges, unread_reply, change_in_care) "
                f"VALUES ({number}, '{reference}', 'sub{number}', 1, 1, 1, 'patient', false, false, 'en', false, "
                f"'[]', 'tablet', '{status}', 3, 0, false, false, '2026-01-02 03:04:05', '2026-01-02 09:00:00', "
                "'2026-01-02 03:30:00', 1, 0, false, '[]')"
            )
            statements.append(
                "INSERT INTO audit_event (id, occurred_at, actor_type, actor_id, action, object_type, object_id, "
                f"concern_id, changes, prev_hash, hash) VALUES ({number}, '2026-01-02 09:00:00', 'user', 1, "
                f"'reopened', 'concern', {number}, {number}, '{{}}', '{'0' * 64}', '{str(number) * 64}')"
            )
        for statement in statements:
            db.session.execute(text(statement))
        db.session.commit()
        upgrade()
        rows = db.session.execute(
            text("SELECT id, reopened_at, next_review_nudge_at, first_ack_at FROM concern ORDER BY id")
        ).all()
        assert [str(row[1])[:19] for row in rows] == ["2026-01-02 09:00:00", "2026-01-02 09:00:00"]
        assert str(rows[0][2])[:19] == "2026-01-02 09:30:00"  # still waiting for its new review: reminded
        assert rows[1][2] is None and rows[0][3] is None  # closed again: nothing due
        # A policy whose pause was longer than the default ceiling keeps its pause as its ceiling.
        assert db.session.execute(text("SELECT ack_ceiling_minutes FROM escalation_policy")).scalar() == 15
        db.session.remove()
        db.engine.dispose()
