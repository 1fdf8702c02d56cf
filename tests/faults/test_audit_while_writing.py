"""Checking the audit chain while the app writes (docs/architecture.md#audit): `flask tracker verify-audit` and the
managers' audit page never cry "chain broken" because events were appended while they read. A writer thread
appends and commits events as fast as it can while each check runs again and again; on SQLite and on PostgreSQL
(the suite's second run)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select

from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditCheckpoint, AuditEvent
from tracker.services.records import audit

CHECKS = 15  # each check races a writer that commits every few milliseconds: a torn read shows within a few


def record_events(app, count: int) -> None:
    with app.app_context(), write_intent():
        for n in range(count):
            audit.record("fault_test_step", audit.Actor.system(), changes={"n": n})
        db.session.commit()


@contextmanager
def appending(app) -> Iterator[list[int]]:
    """A thread that appends one event per transaction until the block ends; yields its count so far."""
    stop, appended, failures = threading.Event(), [0], []

    def write() -> None:
        try:
            with app.app_context(), write_intent():
                while not stop.is_set():
                    audit.record("fault_test_append", audit.Actor.system())
                    db.session.commit()
                    appended[0] += 1
        except Exception as error:  # reported by the test, not lost in the thread
            failures.append(error)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        yield appended
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not failures, failures
    assert appended[0] > 0, "the writer never appended: the test raced nothing"


def test_verify_audit_never_reports_a_break_while_events_are_appended(app):
    record_events(app, 300)
    runner = app.test_cli_runner()
    with appending(app) as appended:
        for _ in range(CHECKS):
            result = runner.invoke(args=["tracker", "verify-audit"])
            assert result.exit_code == 0, result.output
            assert "Audit chain intact" in result.output
        during = appended[0]
    assert during > 0
    with app.app_context():
        # Each full check records only what it verified: events it never read are not claimed as checked.
        for checkpoint in db.session.scalars(select(AuditCheckpoint).where(AuditCheckpoint.full.is_(True))):
            assert checkpoint.ok, checkpoint.problem
            assert checkpoint.to_event_id == checkpoint.events_checked
            event = db.session.get(AuditEvent, checkpoint.to_event_id)
            assert event is not None and event.hash == checkpoint.to_hash
        assert audit.verify_chain().ok
        db.session.rollback()


def test_the_audit_page_never_reports_a_break_while_events_are_appended(app, client, trust, login_as):
    login_as("manager")
    record_events(app, 300)
    runner = app.test_cli_runner()
    with appending(app):
        for n in range(10):
            if n % 5 == 0:  # the page continues from the full checks' checkpoints too
                assert runner.invoke(args=["tracker", "verify-audit"]).exit_code == 0
            html = client.get("/records/audit").get_data(as_text=True)
            assert "The audit trail does not verify" not in html, html[html.find('id="chain"') :][:800]
            assert 'id="chain-status">Verified' in html
    with app.app_context():
        assert all(c.ok for c in db.session.scalars(select(AuditCheckpoint)))
        db.session.rollback()
