"""Keeping the caller informed (docs/architecture.md#messages): the canned texts staff may send a caller (files in
templates/sms/, never free text), why a caller cannot be texted, and marking a call changed or its replies read
without counting as an edit, so nobody's open page goes stale because a text was sent."""

from __future__ import annotations

from sqlalchemy import func, select, update

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    Audience,
    Concern,
    Message,
    RecipientKind,
    SmsOptOut,
    User,
)
from tracker.services.concerns import linked_calls
from tracker.services.concerns.triage import TriageProblem
from tracker.services.messaging.notifications import FamilyText, family_text_decision, queue_message
from tracker.services.phone import display_phone
from tracker.services.records import audit
from tracker.services.setup.settings import current_settings

# The canned texts staff may send a caller: files in templates/sms/, no free text (docs/architecture.md#messages).
CALLER_UPDATES = {
    "update_team_coming": "The team is coming to see the patient",
    "update_team_will_call": "The team will phone you soon",
    "update_review_done": "The team has seen the patient",
    "update_please_call": "Please phone the team",
}


def update_caller(concern_id: int, user: User, template_id: str) -> Message | None:
    """Send the caller one of the canned texts, through the outbox (None if it is there already). The callers
    of calls linked to this one get it too (services/concerns/linked_calls.py): each caller who may be texted is,
    and the update is refused only when none of them may be (a nurse's call linked with a relative's, say)."""
    if template_id not in CALLER_UPDATES:
        raise TriageProblem("Choose one of the messages")
    concern = db.session.get_one(Concern, concern_id)
    callers = [concern, *(c for c in linked_calls.linked_to(concern) if c.is_open)]
    textable = [c for c in callers if _why_not(c) is None]
    if not textable:
        raise TriageProblem(_why_not(concern) or "None of the callers can be texted")
    messages = [_queue_update(c, user, template_id) for c in textable]
    return messages[0] if textable[0] is concern else None


def textable_callers(concern: Concern) -> int:
    """How many of this call's callers (its own and those of the calls linked to it) may be sent an update."""
    callers = [concern, *(c for c in linked_calls.linked_to(concern) if c.is_open)]
    return sum(1 for c in callers if _why_not(c) is None)


def _why_not(concern: Concern) -> str | None:
    """Why this caller cannot be sent an update, in words for the clinician; None if they can."""
    if concern.callback_number and db.session.scalar(
        select(SmsOptOut.opted_out).where(SmsOptOut.number == concern.callback_number)
    ):
        return "The caller texted STOP or another opt-out word: they get no more texts. Phone them"
    if concern.local_reason:
        return "Texts to this caller are stopped: the patient died or left hospital. Phone them"
    if concern.safeguarding:
        return "Texts to this caller are stopped: the call is flagged for safeguarding. Phone them if it is safe"
    decision = family_text_decision(concern, current_settings())
    return None if decision is FamilyText.QUEUED else CANNOT_TEXT[decision]


def _queue_update(concern: Concern, user: User, template_id: str) -> Message | None:
    assert concern.callback_number is not None  # family_text_decision queues nothing without one
    count = db.session.execute(
        select(func.count(Message.id)).where(Message.concern_id == concern.id, Message.template_id.in_(CALLER_UPDATES))
    ).scalar_one()
    message = queue_message(
        concern=concern,
        audience=Audience.FAMILY,
        recipient_kind=RecipientKind.CALLER,
        to_number=concern.callback_number,
        template_id=template_id,
        variables={"reference": concern.reference, "team_phone": display_phone(concern.team.public_phone)},
        locale=concern.locale,
        idempotency_key=f"concern:{concern.id}:caller_update:{count + 1}",
        actor=audit.Actor.user(user.id),
    )
    touch(concern.id)
    return message


def touch(concern_id: int) -> None:
    """Mark the concern as changed for the queue, without counting as an edit (no version bump,
    so nobody's open form goes stale because a text was sent)."""
    db.session.execute(
        update(Concern)
        .where(Concern.id == concern_id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


CANNOT_TEXT = {
    FamilyText.NO_NUMBER: "The caller gave no phone number.",
    FamilyText.NO_CONSENT: "The caller did not agree to text messages.",
    FamilyText.NOT_TEXTABLE: "The caller's number cannot receive texts (not a mobile in an allowed country).",
    FamilyText.RELATIVES_NOT_TEXTED: "This trust does not text relatives.",
}


def mark_follow_up_read(concern: Concern, user: User) -> None:
    """A clinician has read a text sent after the call ended and decided nothing more is needed
    (a "thank you"); reopening the call is the other way to clear it. Audited."""
    if not concern.unread_reply:
        return
    mark_replies_read(concern.id)
    audit.record(
        "follow_up_read",
        audit.Actor.user(user.id),
        object_type="concern",
        object_id=concern.id,
        concern_id=concern.id,
    )


def mark_replies_read(concern_id: int) -> None:
    """A clinician opened the call: its new-reply flag goes (a plain UPDATE, so nobody's open
    page becomes stale)."""
    db.session.execute(
        update(Concern)
        .where(Concern.id == concern_id)
        .values(unread_reply=False, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def mark_opened(concern_id: int) -> None:
    """Staff have opened the call: it is no longer a "New arrival" on the queue (a plain UPDATE, not an edit)."""
    db.session.execute(
        update(Concern)
        .where(Concern.id == concern_id, Concern.first_opened_at.is_(None))
        .values(first_opened_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
