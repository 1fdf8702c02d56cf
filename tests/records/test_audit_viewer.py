"""The audit viewer: search by call reference, person, action and time; each row
shows the fields that changed; pages follow one another by key; the page says whether the hash
chain verifies, checking only what is new since the last check."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import text

from tests.conftest import ON_POSTGRES, sign_in_directly
from tests.records.conftest import make_concern
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditCheckpoint, AuditEvent, Population, User
from tracker.services.records import audit, audit_log
from tracker.services.setup import hospital


def events_shown(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'aria-hidden="true">Event </span>(\d+)</td>', page)]


def record_events(app, count: int, action: str = "test_event", **changes) -> None:
    with app.app_context(), write_intent():
        audit.record_many([audit.Entry(action, audit.Actor.system(), changes=changes) for _ in range(count)])
        db.session.commit()


def tamper(app, event_id: int) -> None:
    """Edit one audit row behind the application's back (on PostgreSQL, with the trigger that
    refuses it switched off for this one statement)."""
    with app.app_context(), write_intent():
        if ON_POSTGRES:
            db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        db.session.execute(text("UPDATE audit_event SET action = 'nothing_to_see' WHERE id = :id"), {"id": event_id})
        if ON_POSTGRES:
            db.session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
        db.session.commit()


def test_searching_by_call_shows_its_events_and_the_fields_they_changed(app, client, trust, manager):
    _, reference = make_concern(app, trust["ward"])
    make_concern(app, trust["ward"])
    page = client.get(f"/records/audit?reference={reference.lower()}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count(f">{reference}</a>") >= 3
    assert "Raised" in html and "A member of the public" in html
    assert "caller route:</span> family_carer_advocate" in html or "caller route" in html
    with app.app_context():
        ids = [e.id for e in db.session.scalars(db.select(AuditEvent).where(AuditEvent.concern_id.is_not(None)))]
    shown = events_shown(html)
    assert shown == sorted(shown, reverse=True), "newest first"
    assert set(shown) < set(ids)


def test_each_row_lists_the_fields_that_changed(app, client, trust, manager):
    record_events(app, 1, "retention_flags_set", legal_hold=True, complaint=False)
    html = client.get("/records/audit?action=retention_flags_set").get_data(as_text=True)
    assert "legal hold:</span> yes" in html and "complaint:</span> no" in html


def test_searching_by_person_action_and_time(app, client, trust, manager, login_as):
    with app.app_context():
        email = db.session.get(User, manager).email
    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=UTC), tick=False):
        record_events(app, 2, "long_ago")
    by_person = client.get(f"/records/audit?user={email.upper()}").get_data(as_text=True)
    assert "Test manager" in by_person and "A member of the public" not in by_person
    by_action = client.get("/records/audit?action=long_ago").get_data(as_text=True)
    assert len(events_shown(by_action)) == 2
    in_march = client.get("/records/audit?from-day=10&from-month=3&from-year=2026&to-day=10&to-month=3&to-year=2026")
    assert len(events_shown(in_march.get_data(as_text=True))) == 2
    before_march = client.get("/records/audit?to-day=9&to-month=3&to-year=2026").get_data(as_text=True)
    assert events_shown(before_march) == [] and "No events match" in before_march


def test_pages_follow_one_another_by_key(app, client, trust, manager):
    record_events(app, audit_log.PAGE_SIZE + 7, "bulk_event")
    first = client.get("/records/audit?action=bulk_event").get_data(as_text=True)
    shown = events_shown(first)
    assert len(shown) == audit_log.PAGE_SIZE
    older = re.search(r'href="(/records/audit\?[^"]*before=\d+[^"]*)"', first).group(1).replace("&amp;", "&")
    second = client.get(older).get_data(as_text=True)
    rest = events_shown(second)
    assert len(rest) == 7 and max(rest) < min(shown)
    assert "Back to the newest events" in second and "Older events" not in second


def test_another_sites_calls_are_not_shown(app, client, trust, manager):
    with app.app_context(), write_intent():
        actor = audit.Actor.cli()
        site = hospital.add_site(actor, code="far", name="Far Hospital")
        team = hospital.add_team(
            actor,
            code="far-ccot",
            site=site,
            name="Far Team",
            population=Population.ADULT,
            public_phone="020 7946 0555",
            duty_phone="07400 900555",
        )
        far = hospital.add_ward(
            actor, code="far1", name="Far Ward", site=site, team=team, population=Population.ADULT
        ).id
        db.session.commit()
    _, elsewhere = make_concern(app, far)
    _, mine = make_concern(app, trust["ward"])
    html = client.get("/records/audit").get_data(as_text=True)
    assert mine in html and elsewhere not in html
    refused = client.get(f"/records/audit?reference={elsewhere}")
    assert refused.status_code == 400 and "No call with that reference at your site" in refused.get_data(as_text=True)


def test_looking_at_the_audit_log_is_itself_audited(app, client, trust, manager, read):
    client.get("/records/audit?action=signed_in")
    event = read.all(AuditEvent, AuditEvent.action == "audit_log_viewed")[-1]
    assert (event.actor_type, event.actor_id) == ("user", manager)
    assert event.changes["action"] == "signed_in"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "from-day=31&from-month=12&from-year=2026&to-day=1&to-month=1&to-year=2026",
            "The end date must be the same as or after the start date",
        ),
        ("from-day=1&from-month=1&from-year=1900", "The start date must be between"),
        ("to-day=1&to-month=1&to-year=9999", "The end date must be between"),
        ("from-day=aa&from-month=bb&from-year=cccc", "The start date must be a real date"),
        ("action=%3Dcmd", "Choose an action from the list"),
        ("user=%3Cscript%3E", "No staff account has that email address"),
        ("reference=..%2F..%2Fetc", "No call with that reference at your site"),
    ],
)
def test_bad_searches_get_a_clear_message(client, trust, manager, query, message):
    response = client.get(f"/records/audit?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and "<script>" not in html


@pytest.mark.parametrize("before", ["abc", "-1", "99999999999999999999", "1;DROP"])
def test_a_made_up_page_key_is_harmless(client, trust, manager, before):
    assert client.get(f"/records/audit?before={before}").status_code == 200


# --- is the chain intact? ---------------------------------------------------------------------------


def test_the_page_says_the_chain_verifies_and_checks_only_new_events_next_time(app, client, trust, manager, read):
    record_events(app, 30)
    html = client.get("/records/audit").get_data(as_text=True)
    assert 'id="chain-status">Verified' in html
    first = read.all(AuditCheckpoint)[-1]
    assert first.ok and not first.full and first.from_event_id == 1 and first.events_checked >= 30
    record_events(app, 5)
    client.get("/records/audit")
    second = read.all(AuditCheckpoint)[-1]
    assert second.from_event_id == first.to_event_id + 1
    assert second.events_checked == second.to_event_id - first.to_event_id >= 5


def test_an_edited_event_is_found_and_shown(app, client, trust, manager):
    record_events(app, 10)
    tamper(app, 4)
    html = client.get("/records/audit").get_data(as_text=True)
    assert "The audit trail does not verify" in html and "Event 4" in html
    assert "its contents do not match its hash (edited)" in html
    # It stays reported until a full check finds the chain whole again.
    assert "The audit trail does not verify" in client.get("/records/audit").get_data(as_text=True)


def test_an_edit_behind_the_last_checkpoint_is_caught_by_the_full_check(app, client, trust, manager):
    record_events(app, 10)
    assert "Verified" in client.get("/records/audit").get_data(as_text=True)
    tamper(app, 3)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tracker", "verify-audit"])
    assert result.exit_code == 1 and "event 3" in result.output.lower()
    html = client.get("/records/audit").get_data(as_text=True)
    assert "The audit trail does not verify" in html and "Event 3" in html


def test_a_rewritten_tail_is_caught_at_the_checkpoint(app, client, trust, manager):
    """Someone who edits the event the last check ended on, and recomputes its hash, still fails:
    the checkpoint kept the hash it had."""
    record_events(app, 5)
    client.get("/records/audit")
    with app.app_context():
        last = db.session.scalar(db.select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())).to_event_id
        event = db.session.get(AuditEvent, last)
        event.action = "rewritten"
        new_hash = audit.event_hash(event)
        db.session.rollback()
    with app.app_context(), write_intent():
        if ON_POSTGRES:
            db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        db.session.execute(
            text("UPDATE audit_event SET action = 'rewritten', hash = :h WHERE id = :id"), {"h": new_hash, "id": last}
        )
        db.session.execute(
            text("UPDATE audit_chain_head SET last_hash = :h WHERE last_event_id = :id"), {"h": new_hash, "id": last}
        )
        if ON_POSTGRES:
            db.session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
        db.session.commit()
    html = client.get("/records/audit").get_data(as_text=True)
    assert "The audit trail does not verify" in html and "has changed since" in html


def test_the_page_warns_when_the_daily_full_check_is_overdue(app, client, trust, manager):
    record_events(app, 3)
    assert "has not been checked from the first event yet" in client.get("/records/audit").get_data(as_text=True)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["tracker", "verify-audit"]).exit_code == 0
    html = client.get("/records/audit").get_data(as_text=True)
    assert "The whole chain was last checked from the first event on" in html and "intact" in html
    assert "has not been checked from the first event" not in html
    with time_machine.travel(utcnow() + timedelta(hours=27), tick=False):
        sign_in_directly(app, client, manager)
        assert "has not been checked from the first event since" in client.get("/records/audit").get_data(as_text=True)


def test_a_page_view_checks_a_bounded_number_of_events(app, client, trust, manager, monkeypatch, read):
    record_events(app, 40)
    monkeypatch.setattr(audit_log, "INCREMENTAL_LIMIT", 15)
    html = client.get("/records/audit").get_data(as_text=True)
    assert "newer events are not checked yet" in html
    assert read.all(AuditCheckpoint)[-1].events_checked == 15


def test_the_viewer_never_shows_none(app, client, trust, manager):
    """Events about no call, with no fields, or with a field set to nothing, say so in words."""
    from tracker.db import write_intent
    from tracker.services.records import audit

    with app.app_context(), write_intent():
        audit.record("settings_saved", audit.Actor.cli())
        audit.record("device_used", audit.Actor("device", 7))
        audit.record("retention_flags_set", audit.Actor.cli(), changes={"legal_hold": None, "reasons": []})
        db.session.commit()
    sign_in_directly(app, client, manager)
    page = client.get("/records/audit").get_data(as_text=True)
    assert "None" not in re.sub(r"<[^>]+>", " ", page.split("<tbody", 1)[1])
    assert "Not about a call" in page and "No fields recorded" in page and "not set" in page
    assert "An enrolled queue display (7)" in page
