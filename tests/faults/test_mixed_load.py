"""Concurrency under mixed load on PostgreSQL (docs/architecture.md#audit: lock order): families submit while two
clinicians race to claim every call, a third links calls, a manager exports and `flask tracker verify-audit` runs,
all at once. Afterwards every accepted submission is stored once, each call has one owner, no call follows a
follower, and the audit chain is intact (and no check during the load said otherwise)."""

from __future__ import annotations

import threading
import traceback
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import FamilyForm, create_staff
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Concern, ConcernStatus, ExportKind, User
from tracker.problems import Problem
from tracker.services.concerns import linking, triage
from tracker.services.records import audit, exports

FAMILIES, EACH = 3, 8  # 24 submissions: the others run for as long as the families do


class Load:
    """Runs each actor in a thread of its own until the families are done; keeps what each saw."""

    def __init__(self, app):
        self.app = app
        self.families_done = threading.Event()
        self.errors: list[str] = []
        self.accepted: list[str] = []
        self.checks: list[int] = []
        self.exports = 0

    def actor(self, name: str, step: Callable[[], None]) -> threading.Thread:
        def run() -> None:
            try:
                while not self.families_done.is_set():
                    step()
            except Exception as error:  # surfaced by the test, not lost in the thread
                self.errors.append(f"{name}: {error!r}\n{traceback.format_exc()}")

        return threading.Thread(target=run, name=name, daemon=True)

    def open_calls(self) -> list[tuple[int, str, int | None]]:
        with self.app.app_context():
            rows = db.session.execute(
                select(Concern.id, Concern.reference, Concern.claimed_by_id)
                .where(Concern.status.in_([ConcernStatus.NEW, ConcernStatus.ACKNOWLEDGED]))
                .where(Concern.linked_to_id.is_(None))
                .order_by(Concern.id)
            ).all()
            db.session.rollback()
        return [tuple(row) for row in rows]

    def as_staff(self, user_id: int, action: Callable[[User], object]) -> None:
        """One staff action in its own transaction, as a request would run it; a refusal is an answer."""
        with self.app.app_context(), write_intent():
            try:
                action(db.session.get_one(User, user_id))
                db.session.commit()
            except Problem:
                db.session.rollback()


def family(load: Load, app, number: int) -> None:
    form = FamilyForm(app.test_client())
    for n in range(EACH):
        details = f"Family {number} worried, time {n}"
        answer = form.submit(worry_details=details, patient_name=f"Patient {number}-{n}")
        if answer.status_code != 303:
            load.errors.append(f"family {number}: {answer.status_code}")
            return
        load.accepted.append(details)


@pytest.mark.postgres  # SQLAlchemy's SQLite dialect drops FOR UPDATE: only PostgreSQL shows these races
def test_claims_links_exports_and_checks_while_families_submit(app, trust, monkeypatch):
    monkeypatch.setitem(app.config, "DEVICE_CONCERN_LIMIT", "1000 per minute")
    monkeypatch.setitem(app.config, "ADDRESS_CONCERN_LIMIT", "1000 per minute")
    nurses = [create_staff(app, "outreach", team_ids=[trust["team"]])[0] for _ in range(3)]
    manager = create_staff(app, "manager", site_id=trust["site"])[0]
    load = Load(app)
    runner = app.test_cli_runner()

    def claim() -> None:
        for concern_id, _reference, owner in load.open_calls():
            if owner is None:
                for nurse in nurses[:2]:  # both race for it: one wins, the other is told who has it
                    load.as_staff(nurse, lambda user, c=concern_id: triage.claim(c, user))

    def link() -> None:
        calls = load.open_calls()
        for (first_id, _ref, _owner), (_id, second_ref, _owner2) in zip(calls[::2], calls[1::2], strict=False):
            load.as_staff(nurses[2], lambda user, c=first_id, r=second_ref: linking.link(c, user, r, None))

    def export() -> None:
        with app.app_context():
            today = utcnow().date()
            filters = exports.ConcernFilters(exports.Period(today - timedelta(days=1), today), trust["site"])
            rows = b"".join(exports.concerns_csv(db.engine, filters, identifiers=False, tz="Europe/London"))
            assert rows.startswith(exports.UTF8_BOM)
        load.as_staff(manager, lambda user: exports.record_export(user, ExportKind.CONCERNS_CSV, filters.coded()))
        load.exports += 1

    def verify() -> None:
        load.checks.append(runner.invoke(args=["tracker", "verify-audit"]).exit_code)

    threads = [
        load.actor("claims", claim),
        load.actor("claims too", claim),
        load.actor("links", link),
        load.actor("exports", export),
        load.actor("verify-audit", verify),
    ]
    families = [threading.Thread(target=family, args=(load, app, k)) for k in range(FAMILIES)]
    for thread in threads + families:
        thread.start()
    for thread in families:
        thread.join(timeout=300)
    load.families_done.set()
    for thread in threads:
        thread.join(timeout=120)

    assert not load.errors, "\n".join(load.errors)
    assert len(load.accepted) == FAMILIES * EACH and load.exports and load.checks
    assert set(load.checks) == {0}, "verify-audit reported a break under load"
    with app.app_context():
        calls = db.session.scalars(select(Concern)).all()
        stored = [c.worry_details for c in calls]
        assert sorted(stored) == sorted(load.accepted), "a submission was lost or stored twice"
        owners = defaultdict(set)
        for event in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "claimed")):
            owners[event.concern_id].add(event.actor_id)
        by_id = {c.id: c for c in calls}
        for call in calls:
            assert len(owners[call.id]) <= 1, f"{call.reference} was claimed by {owners[call.id]}"
            if call.linked_to_id is not None:
                assert by_id[call.linked_to_id].linked_to_id is None, f"{call.reference} follows a follower"
        assert any(owners.values()), "no call was claimed: the test raced nothing"
        assert any(c.linked_to_id for c in calls), "no call was linked: the test raced nothing"
        assert audit.verify_chain().ok
        db.session.rollback()
