"""A call's life as a state machine (docs/architecture.md#testing): hypothesis drives random sequences of what
clinicians do (claim, release, hand over, note, priority, review, close, close without review, cancel, reopen,
link, unlink, and time passing) through the real service functions, on two calls about one patient, and after
every step checks what must always hold:

- one owner: a claimed call has exactly one claimant, a call on the queue none, and a call linked to another
  has the claimant of the call it follows;
- the clocks never go backwards or into the future; the first review and the caller's update are set once and
  kept; a call is closed exactly when it has a closing time; each duration the reports count is its clock's;
- a refused action leaves no trace (the same call, no audit row);
- the audit chain verifies (`services/records/audit.py: verify_chain`) and its times never go backwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import time_machine
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func, select

from tests.conftest import ON_POSTGRES, build_trust, empty_tables
from tests.services.test_concerns import raise_one
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    CallerUpdateMethod,
    CancelKind,
    Concern,
    ConcernStatus,
    ConcernType,
    ReviewKind,
    Role,
    User,
)
from tracker.problems import Problem
from tracker.services.concerns import linking, triage
from tracker.services.concerns.news2 import Consciousness, Observations, score
from tracker.services.records import audit
from tracker.services.reports.report_facts import CLOCK_FACTS, micros_between

START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
CLAIMED = {ConcernStatus.ACKNOWLEDGED, ConcernStatus.REVIEWED}
SET_ONCE = ("raised_at", "reviewed_at", "caller_updated_at")
CLOCKS = ("raised_at", "acknowledged_at", "reviewed_at", "caller_updated_at", "closed_at", "reopened_at", "updated_at")

calls = st.integers(0, 1)
clinicians = st.integers(0, 2)
stale = st.integers(0, 7).map(lambda draw: draw == 0)  # now and then, a page opened before the last change
NEWS2 = score(Observations(22, 95, True, 105, 112, Consciousness.ALERT, Decimal("38.4")))


def _snapshot(concern: Concern) -> dict:
    columns = [c.key for c in Concern.__table__.columns]
    return {name: getattr(concern, name) for name in columns}


class CallLife(RuleBasedStateMachine):
    app = None  # set by the test

    def __init__(self):
        super().__init__()
        self.context = self.app.app_context()
        self.context.push()
        self.intent = write_intent()
        self.intent.__enter__()
        self.traveller = time_machine.travel(START, tick=False)
        self.clock = self.traveller.start()
        empty_tables(self.app)
        built = build_trust()
        team = built["team"]
        self.users = []
        for n in range(3):
            user = User(
                email=f"nurse{n}@test.invalid",
                display_name=f"Nurse {n}",
                role=Role.OUTREACH,
                password_hash="-",
                teams=[team],
            )
            db.session.add(user)
            self.users.append(user)
        db.session.commit()
        self.user_ids = [user.id for user in self.users]
        first = raise_one(built["ward"], submission="a" * 24)
        self.clock.shift(timedelta(minutes=1))
        second = raise_one(
            built["ward"], submission="b" * 24, caller_name="Alex", worry_details="Not herself", callback=None
        )
        self.ids = [first.concern.id, second.concern.id]
        assert first.concern.id != second.concern.id, "the second call was merged into the first"
        self.seen: dict[int, dict] = {}
        self.reviewed_itself: set[int] = set()  # calls with a review recorded on them, not through a link
        self.remember()

    def teardown(self):
        db.session.rollback()
        self.traveller.stop()
        self.intent.__exit__(None, None, None)
        self.context.pop()

    # --- helpers ---------------------------------------------------------------------------------------

    def call(self, n: int) -> Concern:
        db.session.expire_all()
        return db.session.get_one(Concern, self.ids[n])

    def user(self, n: int) -> User:
        return db.session.get_one(User, self.user_ids[n])

    def version(self, n: int, stale_page: bool) -> int:
        return self.call(n).version - (1 if stale_page else 0)

    def audit_count(self) -> int:
        return db.session.scalar(select(func.count()).select_from(AuditEvent))

    def attempt(self, action) -> bool:
        """Run one action as a request would: committed if it is allowed; if refused, nothing changed."""
        before = [_snapshot(self.call(n)) for n in range(2)]
        events = self.audit_count()
        try:
            action()
        except Problem as refusal:
            event(f"refused: {type(refusal).__name__}")
            db.session.rollback()
            assert [_snapshot(self.call(n)) for n in range(2)] == before, "a refused action changed a call"
            assert self.audit_count() == events, "a refused action left an audit row"
            return False
        db.session.commit()
        event("allowed")
        assert self.audit_count() > events, "an action that was allowed left no audit row"
        return True

    def remember(self):
        self.seen = {n: _snapshot(self.call(n)) for n in range(2)}

    def coding(self, *, review_needed: bool = True) -> triage.Coding:
        return triage.Coding(
            ConcernType.COMMUNICATION,
            review_needed,
            caller_update_method=CallerUpdateMethod.PHONE,
            caller_updated_at=utcnow(),
        )

    # --- what clinicians do -------------------------------------------------------------------------
    # Each rule acts on a call whose status allows it, mostly as its claimant, so that sequences go somewhere;
    # `anything` tries any action on any call as anyone, to prove that a refusal leaves no trace.

    def pick(self, data, statuses) -> int:
        return data.draw(st.sampled_from([n for n in range(2) if self.call(n).status in statuses]), label="call")

    def who(self, data, n: int) -> int:
        claimant = self.call(n).claimed_by_id
        mostly = [self.user_ids.index(claimant)] * 3 if claimant in self.user_ids else []
        return data.draw(st.sampled_from(mostly + [0, 1, 2]), label="clinician")

    def has(self, *statuses) -> bool:
        return any(self.call(n).status in statuses for n in range(2))

    @rule(minutes=st.integers(0, 600))
    def time_passes(self, minutes):
        self.clock.shift(timedelta(minutes=minutes, microseconds=1))

    @precondition(lambda self: self.has(ConcernStatus.NEW))
    @rule(data=st.data())
    def claim(self, data):
        n = self.pick(data, {ConcernStatus.NEW})
        who = data.draw(clinicians, label="clinician")
        if self.attempt(lambda: triage.claim(self.ids[n], self.user(who))):
            assert self.call(n).claimed_by_id == self.user_ids[who]

    @precondition(lambda self: self.has(ConcernStatus.ACKNOWLEDGED))
    @rule(data=st.data(), stale_page=stale)
    def release(self, data, stale_page):
        n = self.pick(data, {ConcernStatus.ACKNOWLEDGED})
        who, version = self.who(data, n), self.version(n, stale_page)
        if self.attempt(lambda: triage.release(self.ids[n], self.user(who), "Busy at an arrest", version)):
            assert self.call(n).claimed_by_id is None and self.call(n).status is ConcernStatus.NEW

    @precondition(lambda self: self.has(*CLAIMED))
    @rule(data=st.data(), to=clinicians, stale_page=stale)
    def hand_over(self, data, to, stale_page):
        n = self.pick(data, CLAIMED)
        who, version = self.who(data, n), self.version(n, stale_page)
        if self.attempt(
            lambda: triage.hand_over(self.ids[n], self.user(who), self.user_ids[to], "Shift ends", version)
        ):
            assert self.call(n).claimed_by_id == self.user_ids[to]

    @rule(n=calls, who=clinicians, priority=st.sampled_from(["note", None, 1, 2, 3]), stale_page=stale)
    def note_or_priority(self, n, who, priority, stale_page):
        version = self.version(n, stale_page)
        if priority == "note":
            self.attempt(lambda: triage.add_note(self.ids[n], self.user(who), "Rang the ward"))
        else:
            self.attempt(lambda: triage.set_priority(self.ids[n], self.user(who), priority, version))

    @precondition(lambda self: self.has(*CLAIMED))
    @rule(data=st.data(), with_news2=st.booleans(), stale_page=stale)
    def review(self, data, with_news2, stale_page):
        n = self.pick(data, CLAIMED)
        who, version = self.who(data, n), self.version(n, stale_page)
        news2 = NEWS2 if with_news2 else None
        kind = ReviewKind.SEEN_ON_WARD
        if self.attempt(
            lambda: triage.record_review(
                self.ids[n], self.user(who), kind=kind, findings="Settled", news2=news2, version=version
            )
        ):
            assert self.call(n).status is ConcernStatus.REVIEWED
            self.reviewed_itself.add(n)

    @precondition(lambda self: self.has(ConcernStatus.REVIEWED))
    @rule(data=st.data(), stale_page=stale)
    def close(self, data, stale_page):
        n = self.pick(data, {ConcernStatus.REVIEWED})
        who, version = self.who(data, n), self.version(n, stale_page)
        if self.attempt(lambda: triage.close(self.ids[n], self.user(who), self.coding(), "", version)):
            assert self.call(n).status is ConcernStatus.CLOSED

    @precondition(lambda self: self.has(ConcernStatus.ACKNOWLEDGED))
    @rule(data=st.data(), stale_page=stale)
    def close_without_review(self, data, stale_page):
        n = self.pick(data, {ConcernStatus.ACKNOWLEDGED})
        who, version = self.who(data, n), self.version(n, stale_page)
        coding = self.coding(review_needed=False)
        self.attempt(lambda: triage.close_without_review(self.ids[n], self.user(who), coding, "PALS", version))

    @precondition(lambda self: self.has(ConcernStatus.NEW, ConcernStatus.ACKNOWLEDGED))
    @rule(data=st.data(), duplicate=st.booleans(), stale_page=stale, rarely=st.integers(0, 3))
    def cancel(self, data, duplicate, stale_page, rarely):
        if rarely:  # a cancelled call is done with: now and then, so that most sequences go further
            return
        n = self.pick(data, {ConcernStatus.NEW, ConcernStatus.ACKNOWLEDGED})
        who, version = self.who(data, n), self.version(n, stale_page)
        kind = CancelKind.DUPLICATE if duplicate else CancelKind.WITHDRAWN
        other = self.call(1 - n).reference
        self.attempt(lambda: triage.cancel(self.ids[n], self.user(who), kind, "Rang back", version, other))

    @precondition(lambda self: self.has(ConcernStatus.CLOSED))
    @rule(data=st.data(), stale_page=stale)
    def reopen(self, data, stale_page):
        n = self.pick(data, {ConcernStatus.CLOSED})
        who, version = self.who(data, n), self.version(n, stale_page)
        if self.attempt(lambda: triage.reopen(self.ids[n], self.user(who), "Worse again", version)):
            assert self.call(n).claimed_by_id == self.user_ids[who]

    @rule(n=calls, who=clinicians, stale_page=stale)
    def link(self, n, who, stale_page):
        version = self.version(n, stale_page)
        other = self.call(1 - n).reference
        self.attempt(lambda: linking.link(self.ids[n], self.user(who), other, version))

    @precondition(lambda self: any(self.call(n).linked_to_id for n in range(2)))
    @rule(n=calls, who=clinicians, stale_page=stale)
    def unlink(self, n, who, stale_page):
        version = self.version(n, stale_page)
        if self.attempt(lambda: linking.unlink(self.ids[n], self.user(who), "Another patient", version)):
            assert self.call(n).claimed_by_id is None

    @rule(n=calls, who=clinicians, action=st.sampled_from(["claim", "release", "review", "close", "reopen", "cancel"]))
    def anything(self, n, who, action):
        user, version = self.user(who), self.call(n).version
        attempts = {
            "claim": lambda: triage.claim(self.ids[n], user),
            "release": lambda: triage.release(self.ids[n], user, "Busy", version),
            "review": lambda: triage.record_review(
                self.ids[n], user, kind=ReviewKind.PHONE_ADVICE, findings="Advice", news2=None, version=version
            ),
            "close": lambda: triage.close(self.ids[n], user, self.coding(), "", version),
            "reopen": lambda: triage.reopen(self.ids[n], user, "Again", version),
            "cancel": lambda: triage.cancel(self.ids[n], user, CancelKind.WITHDRAWN, "Gone", version),
        }
        if self.attempt(attempts[action]) and action == "review":
            self.reviewed_itself.add(n)

    # --- what always holds ----------------------------------------------------------------------------

    @invariant()
    def holds(self):
        calls = [self.call(n) for n in range(2)]
        for n, call in enumerate(calls):
            self.one_owner(call)
            self.clocks_keep_time(call, self.seen.get(n, {}), n in self.reviewed_itself)
        self.seen = {n: _snapshot(call) for n, call in enumerate(calls)}
        self.audit_chain_intact()

    def one_owner(self, call: Concern):
        if call.status in CLAIMED:
            assert call.claimed_by_id in self.user_ids, (call.status, call.claimed_by_id)
        if call.status is ConcernStatus.NEW:
            assert call.claimed_by_id is None, (call.status, call.claimed_by_id)
        if call.linked_to_id is not None and call.status is not ConcernStatus.CANCELLED:
            followed = db.session.get_one(Concern, call.linked_to_id)
            assert followed.linked_to_id is None, "a linked call follows a call that follows another"
            assert call.claimed_by_id == followed.claimed_by_id, "a linked call has another claimant"

    def clocks_keep_time(self, call: Concern, before: dict, own_review: bool):
        now = utcnow()
        for name in CLOCKS:
            value = getattr(call, name)
            if value is not None:
                assert call.raised_at <= value <= now, (name, value, call.raised_at, now)
        for name in SET_ONCE:
            if before.get(name) is not None:
                assert getattr(call, name) == before[name], f"{name} changed once set"
        for name in ("updated_at", "reopened_at", "version"):
            if before.get(name) is not None:
                assert getattr(call, name) >= before[name], f"{name} went backwards"
        assert (call.closed_at is not None) == (call.status is ConcernStatus.CLOSED), (call.status, call.closed_at)
        if call.status in CLAIMED or call.status is ConcernStatus.CLOSED:
            assert call.acknowledged_at is not None, call.status
        # A call's own review stands whatever happens to it (reviewed, then linked and unlinked, it is back on the
        # queue with its review kept); a review it had only through a link is not its own and goes with the link.
        if not own_review and call.reopened_at is None:
            if call.status in (ConcernStatus.NEW, ConcernStatus.ACKNOWLEDGED):
                assert call.reviewed_at is None, "a call not yet reviewed has a review time"
            if call.reviewed_at is not None and call.acknowledged_at is not None:
                assert call.acknowledged_at <= call.reviewed_at, "reviewed before it was claimed"
        assert (call.reviewed_at is None) == (call.review_kind is None), (call.reviewed_at, call.review_kind)
        for clock, fact in CLOCK_FACTS.items():
            assert getattr(call, fact) == micros_between(getattr(call, clock), call.raised_at), fact

    def audit_chain_intact(self):
        report = audit.verify_chain()
        assert report.ok, report
        times = db.session.scalars(select(AuditEvent.occurred_at).order_by(AuditEvent.id)).all()
        assert times == sorted(times), "the audit trail's times go backwards"


def test_any_sequence_of_actions_keeps_one_owner_the_clocks_and_the_chain(app):
    CallLife.app = app
    run_state_machine_as_test(
        CallLife,
        # Fewer sequences on PostgreSQL, where each commit costs more: the suite runs on both in CI.
        settings=settings(settings.default, max_examples=8 if ON_POSTGRES else 20, stateful_step_count=40),
    )
