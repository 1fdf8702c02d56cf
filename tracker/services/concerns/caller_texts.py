"""What the caller has texted about a call, for its page (docs/architecture.md#messages): their replies, newest
first, and whether they opted out of texts (STOP, CANCEL and the provider's other words)."""

from __future__ import annotations

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Concern, ConcernNote, NoteKind, SmsOptOut


def caller_opted_out(concern: Concern) -> str | None:
    """The word the caller texted to opt out (STOP, CANCEL...) while their number stays opted out, else None."""
    if not concern.callback_number:
        return None
    row = db.session.get(SmsOptOut, concern.callback_number)
    return (row.keyword or "STOP") if row is not None and row.opted_out else None


def caller_replies(concern: Concern) -> list[ConcernNote]:
    """Texts the caller sent back, newest first."""
    return list(
        db.session.scalars(
            select(ConcernNote)
            .where(ConcernNote.concern_id == concern.id, ConcernNote.kind == NoteKind.CALLER_REPLY)
            .order_by(ConcernNote.id.desc())
        )
    )
