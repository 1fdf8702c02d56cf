"""The life of a concern after it is raised (docs/architecture.md#concerns-and-their-clocks): one service function per transition,
each with its audit row in the same transaction; a forbidden move raises ForbiddenTransition.

Claiming is a conditional UPDATE, so when twenty clinicians press Claim at once exactly one wins
and the others are told who has it. Every later edit carries the version the clinician saw, so a
decision made on a stale page is refused rather than silently overwriting a colleague's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, inspect, select, update
from sqlalchemy.orm.attributes import set_committed_value

from tracker.clock import utcnow
from tracker.db import execute_dml
from tracker.extensions import db
from tracker.models import (
    PRIORITIES,
    TRANSITIONS,
    Audience,
    CancelKind,
    Concern,
    ConcernNote,
    ConcernStatus,
    ForbiddenTransition,
    LocalReason,
    Message,
    NoteKind,
    ReviewKind,
    SendState,
    User,
    next_status,
)
from tracker.problems import FieldProblem, Problem
from tracker.services.concerns import linked_calls
from tracker.services.concerns.claims import unclaim
from tracker.services.concerns.coding import Coding, apply_coding, coding_changes, record_local_reason
from tracker.services.concerns.news2 import Score
from tracker.services.concerns.reads import find_visible, team_clinicians
from tracker.services.concerns.triage_problem import TriageProblem
from tracker.services.paging import escalation, reminders
from tracker.services.records import audit
from tracker.services.reports import report_facts

NOTE_LIMIT = 4000


CLAIMED = frozenset({ConcernStatus.ACKNOWLEDGED, ConcernStatus.REVIEWED})  # a claim that loses names who has it


class AlreadyClaimed(Problem):
    def __init__(self, concern: Concern):
        name = concern.claimed_by.display_name if concern.claimed_by else "another clinician"
        super().__init__(f"{name} has already claimed this call.")
        self.concern = concern


class StaleVersion(Problem):
    """The concern changed after the page was opened; nothing was saved."""

    def __init__(self, concern: Concern | None = None):
        super().__init__(
            "This call changed since you opened it, so nothing was saved. Check what changed, then try again."
        )
        self.concern = concern


# --- changing ------------------------------------------------------------------------------------


def _locked(concern_id: int, expected_version: int | None) -> Concern:
    loaded = db.session.identity_map.get(db.session.identity_key(Concern, concern_id))
    if loaded is not None and not inspect(loaded).modified:
        # Read before it was locked (linking finds the other call by reference first): another clinician may
        # have changed it since. Locking a stale copy raises StaleDataError even when no version was asked for;
        # forgotten, it is read afresh under the lock and only `expected_version` decides.
        db.session.expire(loaded)
    concern = db.session.get(Concern, concern_id, with_for_update=True, populate_existing=True)
    if concern is None:
        raise LookupError(concern_id)
    if expected_version is not None and concern.version != expected_version:
        raise StaleVersion(concern)
    return concern


def _require_claimant(concern: Concern, user: User, action: str) -> None:
    if concern.claimed_by_id != user.id:
        who = concern.claimed_by.display_name if concern.claimed_by else "nobody"
        raise TriageProblem(
            f"Only the clinician who has this call can {action}. It is with {who}: claim it or "
            "ask them to hand it over."
        )


def _note(concern: Concern, user: User, kind: NoteKind, text: str) -> ConcernNote:
    text = (text or "").strip()
    if not text:
        raise TriageProblem("Give a reason")
    if len(text) > NOTE_LIMIT:
        raise TriageProblem(f"Keep it to {NOTE_LIMIT} characters or fewer")
    note = ConcernNote(concern_id=concern.id, author_id=user.id, kind=kind, text=text, created_at=utcnow())
    db.session.add(note)
    db.session.flush()
    return note


def _record(action: str, user: User, concern: Concern, **changes: Any) -> None:
    audit.record(
        action,
        audit.Actor.user(user.id),
        object_type="concern",
        object_id=concern.id,
        concern_id=concern.id,
        changes=changes,
    )


def _cancel_pending_alerts(concern: Concern, user: User, reason: str) -> None:
    """Once someone has the call, alerts still waiting to go are not wanted (docs/architecture.md#paging)."""
    waiting = db.session.scalars(
        select(Message).where(
            Message.concern_id == concern.id,
            Message.audience == Audience.CLINICIAN,
            Message.send_state.in_([SendState.PENDING, SendState.UNKNOWN]),
        )
    ).all()
    for message in waiting:
        message.send_state = SendState.CANCELLED
        audit.record(
            "message_cancelled",
            audit.Actor.user(user.id),
            object_type="message",
            object_id=message.id,
            concern_id=concern.id,
            changes={"reason": reason},
        )


def claim(concern_id: int, user: User) -> Concern:
    """First claim wins (a conditional UPDATE); a later one raises AlreadyClaimed naming who has it."""
    now = utcnow()
    # One compare-and-set UPDATE (of many claims at once, exactly one wins), as the transition table says.
    sources, target = TRANSITIONS["claim"]
    won = execute_dml(
        update(Concern)
        .where(Concern.id == concern_id, Concern.status.in_(sources), Concern.linked_to_id.is_(None))
        .values(
            status=target,
            claimed_by_id=user.id,
            version=Concern.version + 1,
            acknowledged_at=func.coalesce(Concern.acknowledged_at, now),
            updated_at=now,
            **escalation.stop_values(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    concern = db.session.get_one(Concern, concern_id, populate_existing=True)
    if not won:
        linked_calls.refuse_if_linked(concern)
        raise AlreadyClaimed(concern) if concern.status in CLAIMED else ForbiddenTransition("claim", concern.status)
    _start_review_clock(concern, now)
    _record("claimed", user, concern, status=concern.status.value)
    _cancel_pending_alerts(concern, user, "claimed")
    linked_calls.follow(concern, user, "claimed")
    return concern


def _start_review_clock(concern: Concern, now: datetime) -> None:
    """Once claimed, the review is due by the team's target: the worker reminds the claimant,
    then tells the next tier (never taking the call away)."""
    values = reminders.acknowledged_values(reminders.episode_start(concern), concern.team.review_target_minutes, now)
    # The claim that stood: a release clears acknowledged_at (claims.py), a reopening keeps the first episode's.
    values.update(report_facts.clock_values("acknowledged_at", concern.acknowledged_at, concern.raised_at))
    db.session.execute(
        update(Concern).where(Concern.id == concern.id).values(**values).execution_options(synchronize_session=False)
    )
    for field, value in values.items():
        set_committed_value(concern, field, value)


def release(concern_id: int, user: User, reason: str, version: int | None) -> Concern:
    concern = _locked(concern_id, version)
    target = next_status(concern.status, "release")
    linked_calls.refuse_if_linked(concern)
    _require_claimant(concern, user, "release it")
    note = _note(concern, user, NoteKind.RELEASE_REASON, reason)
    concern.status = target
    unclaim(concern)
    # Back in the queue: paging carries on from where it stopped.
    for field, value in {**escalation.resume_values(utcnow()), "next_review_nudge_at": None}.items():
        setattr(concern, field, value)
    _record("released", user, concern, note_id=note.id, status=concern.status.value)
    linked_calls.follow(concern, user, "released")
    return concern


def release_from_leaver(concern_id: int, leaver: User, by: User) -> bool:
    """An account closed at once (a security incident) gives its claimed calls back to the queue, so the team can
    claim them and paging carries on; a call already reviewed, or following another call, stays as it is (the
    closing page lists it). Whether the call went back."""
    concern = _locked(concern_id, None)
    if concern.claimed_by_id != leaver.id or concern.status is not ConcernStatus.ACKNOWLEDGED or concern.linked_to_id:
        return False
    concern.status = next_status(concern.status, "release")
    unclaim(concern)
    for field, value in {**escalation.resume_values(utcnow()), "next_review_nudge_at": None}.items():
        setattr(concern, field, value)
    _record("released", by, concern, status=concern.status.value, reason="claimant_account_closed")
    linked_calls.follow(concern, by, "released")
    return True


def hand_over(concern_id: int, user: User, to_user_id: int, reason: str, version: int | None) -> Concern:
    concern = _locked(concern_id, version)
    next_status(concern.status, "hand_over")
    linked_calls.refuse_if_linked(concern)
    _require_claimant(concern, user, "hand it over")
    colleague = next((c for c in team_clinicians(concern) if c.id == to_user_id), None)
    if colleague is None or colleague.id == user.id:
        raise TriageProblem("Choose another clinician in this call's team")
    note = _note(concern, user, NoteKind.HAND_OVER_REASON, reason)
    concern.claimed_by_id = colleague.id
    _record("handed_over", user, concern, to_user_id=colleague.id, note_id=note.id)
    linked_calls.follow(concern, user, "handed_over")
    return concern


def set_priority(concern_id: int, user: User, priority: int | None, version: int | None) -> Concern:
    concern = _locked(concern_id, version)
    if not concern.is_open:
        raise TriageProblem(f"This call is {concern.status.value}: only an open call has a priority.")
    if priority is not None and priority not in PRIORITIES:
        raise TriageProblem("Choose a priority from the list")
    concern.priority = priority
    _record("priority_set", user, concern, priority=priority)
    return concern


def record_review(
    concern_id: int, user: User, *, kind: ReviewKind, findings: str, news2: Score | None, version: int | None
) -> Concern:
    concern = _locked(concern_id, version)
    target = next_status(concern.status, "record_review")
    linked_calls.refuse_if_linked(concern)
    _require_claimant(concern, user, "record the review")
    note = _note(concern, user, NoteKind.FINDINGS, findings) if findings.strip() else None
    if note is None:
        raise TriageProblem("Write what you found")
    now = utcnow()
    concern.status = target
    concern.next_review_nudge_at = None
    concern.review_kind = kind
    concern.reviewed_at = concern.reviewed_at or now
    if news2 is not None:
        concern.news2_total, concern.news2_scale = news2.total, news2.scale
        concern.news2_response, concern.news2_parameters = news2.response.value, dict(news2.parameters)
    _record(
        "review_recorded",
        user,
        concern,
        review_kind=kind.value,
        note_id=note.id,
        news2_total=news2.total if news2 else None,
        news2_scale=news2.scale if news2 else None,
    )
    linked_calls.follow(concern, user, "review_recorded")
    return concern


def close(concern_id: int, user: User, coding: Coding, summary: str, version: int | None) -> Concern:
    concern = _locked(concern_id, version)
    target = next_status(concern.status, "close")
    linked_calls.refuse_if_linked(concern)
    _require_claimant(concern, user, "close it")
    coding.check(concern)
    note = _note(concern, user, NoteKind.CLOSE_SUMMARY, summary) if summary.strip() else None
    concern.status = target
    apply_coding(concern, coding)
    _record("closed", user, concern, note_id=note.id if note else None, **coding_changes(coding))
    linked_calls.follow(concern, user, "closed")
    return concern


def close_without_review(concern_id: int, user: User, coding: Coding, reason: str, version: int | None) -> Concern:
    """Only for calls coded "no clinical review needed" (e.g. a parking question signposted to
    PALS), so the national "needed a clinical review" count stays true."""
    concern = _locked(concern_id, version)
    target = next_status(concern.status, "close_without_review")
    linked_calls.refuse_if_linked(concern)
    _require_claimant(concern, user, "close it")
    if coding.clinical_review_needed:
        raise TriageProblem("A call that needed a clinical review must have its review recorded before it is closed")
    coding.check(concern)
    note = _note(concern, user, NoteKind.CLOSE_SUMMARY, reason)
    concern.status = target
    apply_coding(concern, coding)
    _record("closed_without_review", user, concern, note_id=note.id, **coding_changes(coding))
    linked_calls.follow(concern, user, "closed_without_review")
    return concern


def cancel(
    concern_id: int,
    user: User,
    kind: CancelKind,
    reason: str,
    version: int | None,
    duplicate_of_reference: str | None = None,
    local_reason: LocalReason | None = None,
) -> Concern:
    concern = _locked(concern_id, version)
    target = next_status(concern.status, "cancel")
    if local_reason is not None and kind is not CancelKind.WITHDRAWN:
        raise FieldProblem("local_reason", "A call about a patient who died or left hospital is cancelled as withdrawn")
    original = None
    if kind is CancelKind.DUPLICATE:
        original = find_visible(user, (duplicate_of_reference or "").strip().upper())
        if original is None or original.id == concern.id:
            raise TriageProblem("Give the reference of the call this one repeats")
    note = _note(concern, user, NoteKind.CANCEL_REASON, reason)
    concern.status = target
    concern.next_review_nudge_at = None
    for field, value in escalation.stop_values().items():
        setattr(concern, field, value)
    concern.cancel_kind = kind
    concern.duplicate_of_id = original.id if original else None
    if local_reason is not None:
        record_local_reason(concern, local_reason)
    _record(
        "cancelled",
        user,
        concern,
        cancel_kind=kind.value,
        duplicate_of_id=concern.duplicate_of_id,
        note_id=note.id,
        local_reason=local_reason.value if local_reason else None,
    )
    _cancel_pending_alerts(concern, user, "cancelled")
    linked_calls.follow(concern, user, "cancelled")
    return concern


def reopen(concern_id: int, user: User, reason: str, version: int | None) -> Concern:
    concern = _locked(concern_id, version)
    target = next_status(concern.status, "reopen")
    linked_calls.refuse_if_linked(concern)
    note = _note(concern, user, NoteKind.REOPEN_REASON, reason)
    now = utcnow()
    concern.status = target
    concern.claimed_by_id = user.id
    concern.closed_at = None
    # A new episode: its own review clock from now, and, if it is released unclaimed, paging from
    # the policy's first step. The first episode's clocks (alert, claim, review, caller told) stay.
    concern.reopened_at = now
    concern.unread_reply = False  # a follow-up text that led to the reopening is dealt with
    concern.escalation_position = 0
    concern.first_ack_at = None
    _start_review_clock(concern, now)
    _record("reopened", user, concern, note_id=note.id, status=concern.status.value)
    linked_calls.follow(concern, user, "reopened")
    return concern


def add_note(concern_id: int, user: User, text: str) -> ConcernNote:
    concern = db.session.get_one(Concern, concern_id)
    if not (text or "").strip():
        raise TriageProblem("Write the note")
    note = _note(concern, user, NoteKind.NOTE, text)
    _record("note_added", user, concern, note_id=note.id)
    return note
