"""Linking calls (docs/architecture.md#linked-calls). Two relatives (or a relative and a nurse) may raise calls about
one patient. The match is only shown (services/concerns/same_patient.py); a clinician who has checked links the
second call to the one the team works, in one audited action: the linked call stops paging, its waiting alerts
are cancelled, it follows the other call from then on (services/concerns/linked_calls.py), and its caller gets
the updates. Unlinking puts it back on the queue, paging again.

A caller's text after their call ended can also become a new call (`raise_follow_up`): a genuine call that pages
as any other, pointing back to the call it follows up. Linked and follow-up calls share the safeguarding flag."""

from __future__ import annotations

from sqlalchemy import select, update

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import OPEN_STATUSES, Channel, Concern, ConcernNote, ConcernStatus, NoteKind, User
from tracker.services.concerns import linked_calls, safeguarding
from tracker.services.concerns.claims import unclaim
from tracker.services.concerns.intake import Intake, Outcome, Source, raise_concern
from tracker.services.concerns.reads import find_visible
from tracker.services.concerns.triage import _cancel_pending_alerts, _locked, _note, _record
from tracker.services.concerns.triage_problem import TriageProblem
from tracker.services.paging import escalation
from tracker.services.phone import parse_phone
from tracker.services.records import audit


def link(concern_id: int, user: User, other_reference: str, version: int | None) -> tuple[Concern, Concern]:
    """Link this call and the call with `other_reference`, both open and in one team. The call a clinician has
    claimed is the one the team works (if both or neither are claimed, the one raised first); the other follows
    it. A call already linked is followed through the call it follows, so there is always one call to work.
    Returns (the call that now follows, the call it follows)."""
    other = find_visible(user, other_reference.strip().upper()) if other_reference.strip() else None
    if other is not None and other.linked_to_id is not None:
        other = other.linked_to
    if other is None or other.id == concern_id:
        raise TriageProblem("Give the reference of another open call to link this one to")
    # Both rows locked, in id order (two clinicians linking the same pair from either page never deadlock), and
    # checked only once locked: a call cancelled or linked a moment ago must not be linked to.
    first_id, second_id = sorted((concern_id, other.id))
    locked = {first_id: _locked(first_id, version if first_id == concern_id else None)}
    locked[second_id] = _locked(second_id, version if second_id == concern_id else None)
    call, other = locked[concern_id], locked[other.id]
    for each in (call, other):
        if each.status not in OPEN_STATUSES:
            raise TriageProblem(f"{each.reference} is {each.status.value}: only open calls can be linked.")
        linked_calls.refuse_if_linked(each)
    if other.team_id != call.team_id:
        raise TriageProblem(f"{other.reference} is another team's call: only calls in one team can be linked.")
    follower, primary = _which_follows(call, other)
    now = utcnow()
    for field, value in escalation.stop_values().items():
        setattr(follower, field, value)
    follower.next_review_nudge_at = None
    follower.linked_to_id, follower.linked_at = primary.id, now
    moved = _move_followers(follower, primary)
    _record("linked", user, follower, linked_to_id=primary.id, status=follower.status.value, moved=moved)
    _cancel_pending_alerts(follower, user, "linked")
    db.session.flush()
    safeguarding.share_flag([follower, primary], user)
    linked_calls.follow(primary, user, "linked")
    return follower, primary


def _which_follows(call: Concern, other: Concern) -> tuple[Concern, Concern]:
    """(follower, primary): the claimed call is the one being worked; otherwise the first raised."""
    call_claimed, other_claimed = call.claimed_by_id is not None, other.claimed_by_id is not None
    if call_claimed != other_claimed:
        return (other, call) if call_claimed else (call, other)
    return (call, other) if (other.raised_at, other.id) < (call.raised_at, call.id) else (other, call)


def _move_followers(call: Concern, target: Concern) -> list[int]:
    """Calls that followed `call` follow `target` now (one call to work, never a chain)."""
    followers = list(db.session.scalars(select(Concern).where(Concern.linked_to_id == call.id)))
    for follower in followers:
        follower.linked_to_id = target.id
    return [follower.id for follower in followers]


def unlink(concern_id: int, user: User, reason: str, version: int | None) -> Concern:
    """The calls turned out to be about different patients: this one goes back on the queue, unclaimed, and
    paging carries on from where it stopped."""
    call = _locked(concern_id, version)
    if call.linked_to_id is None:
        raise TriageProblem("This call is not linked to another call.")
    if call.status not in OPEN_STATUSES:
        raise TriageProblem(f"This call is {call.status.value}: reopen the call it was linked to instead.")
    note = _note(call, user, NoteKind.NOTE, reason)
    was_linked_to = call.linked_to_id
    if call.reviewed_at is not None and call.linked_at is not None and call.reviewed_at >= call.linked_at:
        # A review that counted for it while linked (linked_calls.py: _mirror) was the other patient's.
        call.reviewed_at = call.review_kind = None
    call.linked_to_id = call.linked_at = None
    call.status = ConcernStatus.NEW
    unclaim(call)
    for field, value in escalation.resume_values(utcnow()).items():
        setattr(call, field, value)
    _record("unlinked", user, call, linked_to_id=was_linked_to, note_id=note.id, status=call.status.value)
    return call


def raise_follow_up(closed: Concern, user: User) -> Outcome:
    """A caller texted after their call ended and the clinician judges the patient needs the team again: a new
    call, raised as the caller's own (their route, their details), with their latest text as the worry. It pages
    as any new call. The closed call's follow-up flag is cleared; the new call shares its safeguarding flag."""
    if closed.status in OPEN_STATUSES:
        raise TriageProblem("This call is still open: work it here.")
    if closed.ward_id is None:
        raise TriageProblem("This call has no ward yet: reopen it, and set the ward, instead.")
    text = _latest_caller_text(closed) if closed.unread_reply else None
    if text is None:
        raise TriageProblem("There is no new text from the caller to raise a call from.")
    callback = parse_phone(closed.callback_number) if closed.callback_number else None
    intake = Intake(
        ward_id=closed.ward_id,
        submission_id=f"follow-up:{closed.id}:{text.id}",
        caller_route=closed.caller_route,
        channel=Channel.SMS,
        worry_details=text.text,
        patient_name=closed.patient_name or "",
        bed=closed.bed or "",
        patient_dob=closed.patient_dob,
        hospital_number=closed.hospital_number or "",
        caller_name=closed.caller_name or "",
        caller_relationship=closed.caller_relationship or "",
        callback=callback,
        callback_extension=closed.callback_extension or "",
        sms_consent=closed.sms_consent,
        locale=closed.locale,
        preferred_language=closed.preferred_language or "",
        interpreter_needed=closed.interpreter_needed,
        communication_needs=closed.communication_needs or "",
    )
    outcome = raise_concern(intake, Source(), audit.Actor.user(user.id))
    if outcome.how != "new":
        # The same text raised a moment ago, or an identical open call: that call stands, already paged.
        raise TriageProblem(f"This text is already on call {outcome.reference}.")
    new_call = db.session.get_one(Concern, outcome.concern_id)
    new_call.follows_id = closed.id
    closed_id = closed.id
    db.session.execute(
        update(Concern)
        .where(Concern.id == closed_id)
        .values(unread_reply=False, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    _record("follow_up_raised", user, closed, follow_up_id=new_call.id)
    db.session.flush()
    safeguarding.share_flag([new_call, closed], user)
    return outcome


def _latest_caller_text(closed: Concern) -> ConcernNote | None:
    """The caller's latest text to the call."""
    return db.session.scalar(
        select(ConcernNote)
        .where(ConcernNote.concern_id == closed.id, ConcernNote.kind == NoteKind.CALLER_REPLY)
        .order_by(ConcernNote.id.desc())
        .limit(1)
    )
