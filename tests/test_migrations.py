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
