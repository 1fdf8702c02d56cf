"""STOP, CANCEL and the provider's other opt-out words, and START (docs/architecture.md#messages). The provider
refuses every text and call to an opted-out number and confirms the opt-out itself; we record it, never text
the number, flag the caller's open call, and name a clinician who opted out, since no alert can reach them."""

from __future__ import annotations

from sqlalchemy import select, update

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    OPEN_STATUSES,
    Concern,
    ConcernNote,
    NoteKind,
    SmsOptOut,
    User,
)
from tracker.services import alarms
from tracker.services.messaging.notifications import cancel_waiting_family_texts
from tracker.services.records import audit


def opted_out(number: str, word: str) -> None:
    set_opt_out(number, opted_out=True, word=word)
    _flag_the_callers_open_call(number, word)
    _staff_alarm(number, opted_out=True)


def opted_in(number: str, word: str) -> None:
    set_opt_out(number, opted_out=False, word=word)
    _staff_alarm(number, opted_out=False)


def _flag_the_callers_open_call(number: str, word: str) -> None:
    """A caller who texts STOP, CANCEL or another opt-out word gets no more texts from the provider
    (nor from us): their open call says so, flagged like a reply, so the clinician phones them and
    asks whether they want to withdraw the call (the word alone never withdraws it)."""
    now = utcnow()
    for concern in db.session.scalars(
        select(Concern).where(Concern.callback_number == number, Concern.status.in_(OPEN_STATUSES))
    ):
        note = ConcernNote(
            concern_id=concern.id, author_id=None, kind=NoteKind.CALLER_OPTED_OUT, text=word[:20], created_at=now
        )
        db.session.add(note)
        db.session.flush()
        db.session.execute(
            update(Concern)
            .where(Concern.id == concern.id)
            .values(unread_reply=True, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        audit.record(
            "caller_opted_out",
            audit.Actor.public(),
            object_type="concern",
            object_id=concern.id,
            concern_id=concern.id,
            changes={"note_id": note.id},
        )


def _staff_alarm(number: str, *, opted_out: bool) -> None:
    """A clinician's own STOP (a natural reply to repeated paging) makes the provider refuse every
    later alert to them: the alarm names them at once and tells them to text START; START clears it."""
    for user_id in db.session.scalars(select(User.id).where(User.mobile == number, User.active.is_(True))):
        if opted_out:
            alarms.raise_alarm("staff_opted_out", f"user:{user_id}")
        else:
            alarms.clear_alarm("staff_opted_out", f"user:{user_id}")


def set_opt_out(number: str, *, opted_out: bool, word: str) -> None:
    """Record STOP or START for a number. A STOP also cancels texts to it not yet sent."""
    now = utcnow()
    row = db.session.get(SmsOptOut, number, with_for_update=True)
    if row is None:
        db.session.add(SmsOptOut(number=number, opted_out=opted_out, changed_at=now, keyword=word[:20]))
    else:
        row.opted_out, row.changed_at, row.keyword = opted_out, now, word[:20]
    audit.record("sms_opted_out" if opted_out else "sms_opted_in", audit.Actor.public(), object_type="sms_opt_out")
    if not opted_out:
        return
    cancel_waiting_family_texts("opted_out", number=number)
