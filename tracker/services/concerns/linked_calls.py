"""Calls linked to the call the team works (docs/architecture.md#linked-calls): once a clinician links a second
caller's call about the same patient, it follows that call. It is never paged again; it has the same claimant;
a review recorded on the call it follows counts for it from then on; it closes with the same outcome coding;
and its caller gets the updates (services/concerns/caller_updates.py). If the call it follows is cancelled it
goes back on the queue on its own, paging again: a genuine concern is never lost with somebody else's call (unless
it was cancelled because the patient died or left hospital: then the linked call is cancelled the same way).

This module holds what every transition needs (`follow`, `refuse_if_linked`); linking and unlinking are in
services/concerns/linking.py."""

from __future__ import annotations

from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import AgeGroup, Concern, ConcernStatus, User
from tracker.services.concerns.claims import unclaim
from tracker.services.concerns.coding import record_local_reason
from tracker.services.concerns.triage_problem import TriageProblem
from tracker.services.paging import escalation
from tracker.services.records import audit

CLAIMED = frozenset({ConcernStatus.ACKNOWLEDGED, ConcernStatus.REVIEWED})


def linked_to(concern: Concern, *, lock: bool = False) -> list[Concern]:
    """The calls linked to this one (that follow it), oldest first; cancelled ones left out. `lock`: their rows
    locked and read afresh, to change them."""
    query = (
        select(Concern)
        .where(Concern.linked_to_id == concern.id, Concern.status != ConcernStatus.CANCELLED)
        .order_by(Concern.id)
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return sorted(db.session.scalars(query), key=lambda c: c.raised_at)


def refuse_if_linked(concern: Concern) -> None:
    """A linked call is worked through the call it follows: acting on it alone would split one patient's
    care across two records."""
    if concern.linked_to_id is not None and concern.linked_to is not None:
        reference = concern.linked_to.reference
        raise TriageProblem(
            f"This call is linked to {reference}, and the team works it there. Act on {reference}, "
            "or unlink this call first."
        )


def follow(primary: Concern, user: User, event: str) -> None:
    """Carry what just happened to `primary` (`event`: the transition's audit action) over to every call linked
    to it, each with its own audit row."""
    for call in linked_to(primary, lock=True):
        if primary.status is ConcernStatus.CANCELLED:
            if primary.local_reason is not None:
                _cancel_like(call, primary, user)
            else:
                _return_to_queue(call, user)
            continue
        if _mirror(call, primary, event):
            _record_followed(call, primary, user, event=event, status=call.status.value)


def _mirror(call: Concern, primary: Concern, event: str) -> bool:
    """Bring one linked call into line with the call it follows; whether anything changed."""
    before = (call.status, call.claimed_by_id)
    now = utcnow()
    call.claimed_by_id = primary.claimed_by_id
    if primary.status is ConcernStatus.CLOSED:
        if call.status is not ConcernStatus.CLOSED:
            _close_like(call, primary)
    elif primary.status in CLAIMED:
        call.closed_at = None
        if call.status is ConcernStatus.CLOSED:
            call.reopened_at = now
        call.acknowledged_at = call.acknowledged_at or now
        if event == "review_recorded":
            # A review recorded while the calls are linked answers this caller's worry too.
            call.reviewed_at = call.reviewed_at or now
            call.review_kind = primary.review_kind
            call.status = ConcernStatus.REVIEWED
        elif call.status is not ConcernStatus.REVIEWED:
            call.status = ConcernStatus.ACKNOWLEDGED
    elif primary.status is ConcernStatus.NEW and call.status is not ConcernStatus.REVIEWED:
        call.status = ConcernStatus.NEW
        unclaim(call)
    return (call.status, call.claimed_by_id) != before or event == "review_recorded"


def _close_like(call: Concern, primary: Concern) -> None:
    call.status = ConcernStatus.CLOSED
    call.next_review_nudge_at = None
    call.concern_type = primary.concern_type
    call.clinical_review_needed = primary.clinical_review_needed
    call.deterioration_outcome = primary.deterioration_outcome
    call.change_in_care = list(primary.change_in_care or [])
    if call.age_group is AgeGroup.UNKNOWN and primary.age_group is not AgeGroup.UNKNOWN:
        call.age_group = primary.age_group  # the same patient
    if primary.local_reason is not None:
        record_local_reason(call, primary.local_reason)
    call.closed_at = utcnow()


def _cancel_like(call: Concern, primary: Concern, user: User) -> None:
    """The call it followed was cancelled because the patient died or left hospital: the same patient, so this
    call ends the same way, and nothing more is texted to its caller either."""
    call.status = ConcernStatus.CANCELLED
    call.cancel_kind = primary.cancel_kind
    call.next_review_nudge_at = None
    for field, value in escalation.stop_values().items():
        setattr(call, field, value)
    assert primary.local_reason is not None
    record_local_reason(call, primary.local_reason)
    _record_followed(call, primary, user, event="cancelled", local_reason=primary.local_reason.value)


def _record_followed(call: Concern, primary: Concern, user: User, **changes: str) -> None:
    audit.record(
        "linked_call_followed",
        audit.Actor.user(user.id),
        object_type="concern",
        object_id=call.id,
        concern_id=call.id,
        changes={"linked_to_id": primary.id, **changes},
    )


def _return_to_queue(call: Concern, user: User) -> None:
    """The call it followed was cancelled (a duplicate, withdrawn): this caller's worry still stands."""
    call.linked_to_id = None
    call.linked_at = None
    call.claimed_by_id = None
    if call.status is not ConcernStatus.CLOSED:
        call.status = ConcernStatus.NEW
        unclaim(call)
        for field, value in escalation.resume_values(utcnow()).items():
            setattr(call, field, value)
    audit.record(
        "unlinked",
        audit.Actor.user(user.id),
        object_type="concern",
        object_id=call.id,
        concern_id=call.id,
        changes={"reason": "linked_call_cancelled", "status": call.status.value},
    )
