"""The audit trail: hash-chained, append-only, free of personal data, verified end to end."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.exc import IntegrityError

from tests.conftest import ON_POSTGRES
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import GENESIS_HASH, AuditChainHead, AuditEvent
from tracker.services.records import audit


def test_each_event_links_to_the_one_before(ctx):
    first = audit.record("first", audit.Actor.system())
    second = audit.record(
        "second",
        audit.Actor.user(7),
        object_type="concern",
        object_id=3,
        concern_id=3,
        changes={"status": "acknowledged"},
    )
    db.session.commit()
    assert (first.id, second.id) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    head = db.session.get(AuditChainHead, 1)
    assert (head.last_event_id, head.last_hash) == (2, second.hash)
    assert audit.verify_chain().ok


def _head_updates(run) -> int:
    """How many UPDATEs of the chain head `run()` sends."""
    return _statements(run, "UPDATE AUDIT_CHAIN_HEAD")


def _statements(run, starting: str) -> int:
    """How many statements beginning with `starting` `run()` sends."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return sum(1 for statement in seen if statement.lstrip().upper().startswith(starting))


def test_the_chain_head_is_written_once_as_the_transaction_commits(ctx):
    def three_appends_and_commit():
        for action in ("first", "second", "third"):
            audit.record(action, audit.Actor.system())
        db.session.commit()

    assert _head_updates(three_appends_and_commit) == 1
    head = db.session.get(AuditChainHead, 1, populate_existing=True)
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (head.last_event_id, head.last_hash) == (last.id, last.hash) == (3, last.hash)
    assert _head_updates(db.session.commit) == 0  # a transaction that appended nothing writes no head
    assert audit.verify_chain().ok


def test_a_batch_inserts_its_events_in_one_statement_chained_as_separate_inserts_would_be(ctx):
    def in_a_batch():
        audit.record("before", audit.Actor.system())
        with audit.batched():
            audit.record("first", audit.Actor.system())
            audit.record_many([audit.Entry("second", audit.Actor.user(3)), audit.Entry("third", audit.Actor.cli())])
            with audit.batched():  # an inner batch leaves the inserting to the outer one
                audit.record("fourth", audit.Actor.system())
        db.session.commit()

    assert _statements(in_a_batch, "INSERT INTO AUDIT_EVENT") == 2  # "before", then the batch
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["before", "first", "second", "third", "fourth"]
    assert audit.verify_chain().ok


def test_a_batch_that_fails_still_inserts_what_it_chained_so_the_head_never_names_a_missing_event(ctx):
    with pytest.raises(LookupError), audit.batched():
        audit.record("appended", audit.Actor.system())
        raise LookupError("a caller that catches this and commits")
    db.session.commit()
    assert db.session.scalars(select(AuditEvent.action)).all() == ["appended"]
    assert audit.verify_chain().ok


def test_a_database_error_inside_a_batch_reaches_the_caller_as_itself(ctx):
    # On PostgreSQL a failed statement aborts the transaction, so the batch's own insert fails too: the caller
    # (the form's kind 503 for a lost database, say) must still see the first error, not that one.
    audit.record("before", audit.Actor.system())
    db.session.commit()
    with pytest.raises(IntegrityError), audit.batched():
        audit.record("appended", audit.Actor.system())
        db.session.execute(insert(AuditChainHead.__table__).values(id=1, last_event_id=0, last_hash=GENESIS_HASH))
    db.session.rollback()


def test_a_savepoint_inside_a_batch_is_refused(ctx):
    with pytest.raises(RuntimeError, match="savepoint"), audit.batched():
        audit.record("appended", audit.Actor.system())
        db.session.begin_nested()
    db.session.rollback()


@pytest.mark.parametrize("before", [False, True], ids=["first-append-in-the-savepoint", "appended-before-it"])
def test_a_savepoint_rolled_back_takes_its_events_and_its_head_with_it(ctx, before):
    if before:
        audit.record("before", audit.Actor.system())
    savepoint = db.session.begin_nested()
    audit.record("undone", audit.Actor.system())
    savepoint.rollback()
    after = audit.record("after", audit.Actor.system())
    db.session.commit()
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == (["before", "after"] if before else ["after"])
    head = db.session.get(AuditChainHead, 1, populate_existing=True)
    assert (head.last_event_id, head.last_hash) == (after.id, after.hash)
    assert audit.verify_chain().ok


def test_the_hash_covers_a_canonical_encoding_that_both_databases_share():
    event = AuditEvent(
        id=1,
        occurred_at=datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC),
        actor_type="user",
        actor_id=4,
        action="claim",
        object_type="concern",
        object_id=9,
        concern_id=9,
        changes={"b": 1, "a": ["x", True, None]},
        prev_hash=GENESIS_HASH,
    )
    expected = (
        b'{"action":"claim","actor_id":4,"actor_type":"user","changes":{"a":["x",true,null],"b":1},'
        b'"concern_id":9,"id":1,"object_id":9,"object_type":"concern","occurred_at":"2026-03-29T01:30:00.123456Z",'
        b'"prev_hash":"' + GENESIS_HASH.encode() + b'"}'
    )
    assert audit.canonical_bytes(event) == expected
    assert audit.event_hash(event) == hashlib.sha256(expected).hexdigest()


def test_stored_rows_still_hash_the_same_after_a_round_trip_through_the_database(app, ctx):
    audit.record("round_trip", audit.Actor.cli(), changes={"fields": ["name", "phone"], "count": 3, "flag": False})
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.scalars(select(AuditEvent)).one()
    assert stored.occurred_at.tzinfo is not None
    assert audit.event_hash(stored) == stored.hash


@pytest.mark.parametrize("bad", [{"note": 1.5}, {"nested": {"a": 1}}, {"when": datetime.now(UTC)}])
def test_audit_changes_hold_coded_values_only(ctx, bad):
    with pytest.raises(TypeError):
        audit.record("bad", audit.Actor.system(), changes=bad)


def _tamper(sql: str, **params) -> None:
    """Edit the audit table behind the application's back (PostgreSQL: with its trigger off)."""
    if ON_POSTGRES:
        db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
    db.session.execute(text(sql), params)
    if ON_POSTGRES:
        db.session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))
    db.session.commit()
    db.session.expunge_all()


@pytest.fixture
def chain(ctx):
    for n in range(5):
        audit.record("step", audit.Actor.system(), object_type="thing", object_id=n, changes={"n": n})
    db.session.commit()
    return 5


def test_an_edited_row_is_found_and_named(chain):
    _tamper("UPDATE audit_event SET changes = :c WHERE id = 3", c='{"n": 99}')
    report = audit.verify_chain()
    assert not report.ok and report.first_broken_id == 3 and "edited" in report.problem
    assert report.events_checked == 2


def test_a_removed_row_is_found(chain):
    _tamper("DELETE FROM audit_event WHERE id = 2")
    report = audit.verify_chain()
    assert not report.ok and report.first_broken_id == 3 and "missing" in report.problem


def test_rows_removed_from_the_end_are_found_by_the_chain_head(chain):
    _tamper("DELETE FROM audit_event WHERE id >= 4")
    report = audit.verify_chain()
    assert not report.ok and report.first_broken_id == 4 and "head" in report.problem


def test_a_rewritten_row_with_a_recomputed_hash_breaks_the_next_link(chain):
    row = db.session.get(AuditEvent, 3)
    row.changes = {"n": 42}
    forged = audit.event_hash(row)
    db.session.rollback()
    _tamper("UPDATE audit_event SET changes = :c, hash = :h WHERE id = 3", c='{"n": 42}', h=forged)
    report = audit.verify_chain()
    assert not report.ok and report.first_broken_id == 4


def test_verify_audit_command_confirms_an_intact_chain(app, chain):
    result = app.test_cli_runner().invoke(args=["tracker", "verify-audit"])
    assert result.exit_code == 0
    assert "Audit chain intact: 5 events verified" in result.output


def test_verify_audit_command_fails_and_names_the_edited_row(app, chain):
    _tamper("UPDATE audit_event SET action = 'nothing_to_see' WHERE id = 4")
    result = app.test_cli_runner().invoke(args=["tracker", "verify-audit"])
    assert result.exit_code == 1
    assert "AUDIT CHAIN BROKEN at event 4" in result.output


def test_concurrent_appends_never_fork_the_chain(app):
    """Twelve threads append at once; the chain stays one line (docs/architecture.md#audit)."""
    errors = []

    def append(n):
        try:
            with app.app_context(), write_intent():
                for i in range(5):
                    audit.record("concurrent", audit.Actor.system(), changes={"thread": n, "i": i})
                    db.session.commit()
        except Exception as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        report = audit.verify_chain()
        assert report.ok and report.events_checked == 60
