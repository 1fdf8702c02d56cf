"""What someone typed when their session ended is kept only to give it back after they sign in again:
never a password or a code, sealed with a key derived from SECRET_KEY, and gone after 15 minutes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from flask_migrate import upgrade
from sqlalchemy import text

from tests.conftest import create_staff, make_config
from tests.security.helpers import PASSWORD, csrf, referer, sign_in
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import SavedForm

SECRET_TYPED = "My-Real-Password"


@pytest.fixture
def nurse(app, trust):
    return create_staff(app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]])[0]


def raw_saved_rows(app) -> list[str]:
    """Every saved_form row as the database holds it, each column as text."""
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM saved_form")).all()
        db.session.rollback()
    return [" ".join(str(value) for value in row) for row in rows]


def a_reference(client, family) -> str:
    family.submit()
    return re.search(r"MR-[A-Z0-9]{4}-[A-Z0-9]{2}", client.get("/triage/").get_data(as_text=True)).group(0)


def test_a_password_or_code_typed_as_the_session_ended_is_never_kept(client, nurse, app):
    sign_in(client, "nurse@test.invalid")
    confirm_token = csrf(client, "/auth/confirm")
    password_token = csrf(client, "/auth/password")
    with time_machine.travel(utcnow() + timedelta(minutes=40), tick=False):
        client.post(
            "/auth/confirm",
            data={"csrf_token": confirm_token, "password": SECRET_TYPED, "code": "123456"},
            headers=referer("/auth/confirm"),
        )
        client.post(
            "/auth/password",
            data={
                "csrf_token": password_token,
                "current": SECRET_TYPED,
                "new": "plum trolley lantern orbit",
                "confirm": "plum trolley lantern orbit",
            },
            headers=referer("/auth/password"),
        )
    assert not any(SECRET_TYPED in row or "123456" in row or "lantern" in row for row in raw_saved_rows(app))


def test_typed_text_is_sealed_in_the_database_and_fields_named_like_secrets_are_dropped(client, nurse, app, family):
    sign_in(client, "nurse@test.invalid")
    reference = a_reference(client, family)
    token = csrf(client, f"/triage/c/{reference}")
    with time_machine.travel(utcnow() + timedelta(minutes=40), tick=False):
        client.post(
            f"/triage/c/{reference}/note",
            data={"csrf_token": token, "note": "Family very anxious", "password": SECRET_TYPED, "pin_code": "4321"},
            headers=referer(f"/triage/c/{reference}"),
        )
        rows = raw_saved_rows(app)
        assert len(rows) == 1
        assert "Family very anxious" not in rows[0] and SECRET_TYPED not in rows[0] and "4321" not in rows[0]
        sign_in(client, "nurse@test.invalid")
        page = client.get(f"/triage/c/{reference}").get_data(as_text=True)
    assert "Family very anxious" in page
    assert SECRET_TYPED not in page and "4321" not in page


def test_the_worker_deletes_saved_forms_after_fifteen_minutes(client, nurse, app, family):
    from tracker.worker import Worker

    sign_in(client, "nurse@test.invalid")
    reference = a_reference(client, family)
    token = csrf(client, f"/triage/c/{reference}")
    start = utcnow()
    with time_machine.travel(start + timedelta(minutes=40), tick=False):
        client.post(
            f"/triage/c/{reference}/note",
            data={"csrf_token": token, "note": "Family very anxious"},
            headers=referer(f"/triage/c/{reference}"),
        )
    assert len(raw_saved_rows(app)) == 1
    worker = Worker(app)
    with time_machine.travel(start + timedelta(minutes=40 + 14), tick=False):
        worker.run_once()
    assert len(raw_saved_rows(app)) == 1
    with time_machine.travel(start + timedelta(minutes=40 + 16), tick=False):
        worker.run_once()
    assert raw_saved_rows(app) == []


def test_a_saved_form_survives_a_key_rotation_through_secret_key_fallbacks(app, ctx, nurse, monkeypatch):
    from tracker.services.people import saved_forms

    token = saved_forms.save(nurse, "/triage/c/MR-AAAA-AA", {"note": "Family very anxious"})
    db.session.commit()
    old_key = app.config["SECRET_KEY"]
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-brand-new-secret-key-for-this-test-only-0123456789")
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old_key])
    assert saved_forms.take(token, nurse, "/triage/c/MR-AAAA-AA") == {"note": "Family very anxious"}


def test_a_saved_form_sealed_with_an_unknown_key_is_simply_not_restored(app, ctx, nurse, monkeypatch):
    from tracker.services.people import saved_forms

    token = saved_forms.save(nurse, "/triage/c/MR-AAAA-AA", {"note": "Family very anxious"})
    db.session.commit()
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-brand-new-secret-key-for-this-test-only-0123456789")
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [])
    assert saved_forms.take(token, nurse, "/triage/c/MR-AAAA-AA") is None
    assert db.session.query(SavedForm).count() == 0  # unreadable: deleted, not kept


def test_the_migration_deletes_saved_forms_and_asks_whoever_had_a_password_kept_to_choose_a_new_one(
    empty_database_url, build_app
):
    app = build_app(make_config(empty_database_url))
    with app.app_context():
        upgrade(revision="0009")
        for user_id in (1, 2):
            db.session.execute(
                text(
                    "INSERT INTO user_account (id, email, display_name, role, password_hash, must_change_password, "
                    "active, created_at) VALUES (:id, :email, 'A', 'outreach', 'x', false, true, '2026-01-01 00:00:00')"
                ),
                {"id": user_id, "email": f"user{user_id}@test.invalid"},
            )
        db.session.execute(
            text(
                "INSERT INTO saved_form (token_hash, user_id, path, fields, created_at) VALUES "
                "('a', 1, '/auth/confirm', :secret, '2026-01-01 00:00:00'), "
                "('b', 2, '/triage/c/MR-AAAA-AA', :note, '2026-01-01 00:00:00')"
            ),
            {"secret": f'{{"password": "{PASSWORD}", "code": "123456"}}', "note": '{"note": "Family anxious"}'},
        )
        db.session.commit()
        upgrade()
        assert db.session.execute(text("SELECT count(*) FROM saved_form")).scalar() == 0
        flags = dict(db.session.execute(text("SELECT id, must_change_password FROM user_account")).all())
        assert bool(flags[1]) is True and bool(flags[2]) is False
        db.session.remove()
        db.engine.dispose()
