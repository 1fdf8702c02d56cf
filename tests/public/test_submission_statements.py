"""What one family submission asks of the database, counted (deterministic, never timed; its speed is
bench/submit.py's): the concern, its audit rows and its outbox rows in one transaction, the audit chain head
written once, at most one NOTIFY, no savepoint, and a bound on the statements in all."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from tests.conftest import FamilyForm
from tests.services.test_escalation import build_team_on_call
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Concern, Message
from tracker.services.records import audit

# Today's count on SQLite (PostgreSQL adds its intake lock and the NOTIFY, and needs no BEGIN IMMEDIATE): a
# change that adds statements to every submission should be a choice, so it fails here first.
MOST_STATEMENTS = 17


@pytest.fixture
def on_call_family(app, client):
    with app.app_context(), write_intent():
        build_team_on_call(app)
    return FamilyForm(client)


class Statements:
    """The SQL one request sends, in order, from the first statement of its transaction to its commit."""

    def __init__(self, engine):
        self.engine = engine
        self.sent: list[str] = []
        self.commits = 0

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        self.sent.append(" ".join(statement.split()).upper())

    def _commit(self, conn):
        self.commits += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)

    def starting(self, prefix: str) -> list[str]:
        return [s for s in self.sent if s.startswith(prefix)]


def test_one_submission_is_one_transaction_with_one_head_update_and_no_savepoint(app, on_call_family, read):
    hidden = on_call_family.open()
    with app.app_context():
        engine = db.engine
    with Statements(engine) as seen:
        response = on_call_family.submit(hidden)
    assert response.status_code == 303
    assert seen.commits == 1
    assert len(seen.starting("UPDATE AUDIT_CHAIN_HEAD")) == 1
    assert seen.starting("SAVEPOINT") == [] and seen.starting("RELEASE") == []
    assert len(seen.starting("SELECT PG_NOTIFY")) == (1 if engine.dialect.name == "postgresql" else 0)
    assert len(seen.starting("INSERT INTO MESSAGE")) == 2  # the first step's alert, the family's receipt
    assert len(seen.starting("INSERT INTO AUDIT_EVENT")) == 1  # its four events, chained in order, inserted together
    if engine.dialect.name == "sqlite":
        assert len(seen.sent) <= MOST_STATEMENTS, "\n".join(seen.sent)
    # What the one transaction wrote: the concern, its outbox rows and their audit rows, and a chain that holds.
    with app.app_context():
        assert db.session.scalar(select(func.count(Concern.id))) == 1
        assert db.session.scalar(select(func.count(Message.id))) == 2
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-4:] == ["concern_raised", "message_queued", "escalation_step_fired", "message_queued"]
        assert audit.verify_chain().ok
