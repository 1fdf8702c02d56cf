"""What a clinician sees of the calls (docs/architecture.md#concerns-and-their-clocks): the calls a person may see,
a call's timeline, the family's replies and who was paged (the queue is in `queue.py`). Reads only: every
change to a call is in `triage.py`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import joinedload, selectinload

from tracker.extensions import db
from tracker.models import (
    Audience,
    AuditEvent,
    Concern,
    ConcernNote,
    Message,
    User,
)
from tracker.services import scope
from tracker.services.scope import Permission


def visible_concerns(user: User) -> Select[Concern]:
    """The concerns this user may open: outreach their teams' calls, managers their site's."""
    return select(Concern).where(scope.calls(user))


def find_in_reach(user: User, reference: str) -> Concern | None:
    """The concern with this reference if it is among the calls the person's reach covers."""
    return db.session.scalar(visible_concerns(user).where(Concern.reference == reference))


def find_visible(user: User, reference: str) -> Concern | None:
    """The concern with this reference if the user may see it; None (so a 404) otherwise.
    Whoever was alerted for a call may open it too, while their account is active and they are
    still in the call's team (docs/architecture.md#paging): leaving the team ends it."""
    eager = (
        joinedload(Concern.ward),
        joinedload(Concern.site),
        joinedload(Concern.team),
        joinedload(Concern.claimed_by),
    )
    concern = db.session.scalar(visible_concerns(user).where(Concern.reference == reference).options(*eager))
    if concern is None and scope.can(user, Permission.SEE_CALLS) and user.active:
        concern = db.session.scalar(
            select(Concern)
            .where(
                Concern.reference == reference,
                Concern.team_id.in_(user.team_ids or {-1}),
                exists().where(
                    Message.concern_id == Concern.id,
                    Message.recipient_user_id == user.id,
                    Message.audience == Audience.CLINICIAN,
                ),
            )
            .options(*eager)
        )
    return concern


def timeline(concern: Concern) -> list[dict]:
    """The concern's story: its audit events and notes, oldest first, with people's names."""
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.concern_id == concern.id).order_by(AuditEvent.id)
    ).all()
    notes: dict[int | None, ConcernNote] = {  # int | None: looked up with nullable ids and JSON
        note.id: note
        for note in db.session.scalars(
            select(ConcernNote).where(ConcernNote.concern_id == concern.id).options(selectinload(ConcernNote.author))
        )
    }
    people: dict[int | None, str] = {
        user.id: user.display_name
        for user in db.session.scalars(
            select(User).where(User.id.in_({e.actor_id for e in events if e.actor_type == "user"} or {-1}))
        )
    }
    items = []
    last_by_person: dict[int | None, datetime] = {}
    for event in events:
        # Every action is followed by a view of the page it returns to: not worth a line.
        if (
            event.action == "viewed"
            and event.actor_id in last_by_person
            and event.occurred_at - last_by_person[event.actor_id] < timedelta(minutes=5)
        ):
            continue
        if event.actor_type == "user":
            last_by_person[event.actor_id] = event.occurred_at
        note = notes.pop(event.changes.get("note_id"), None) if event.changes else None
        items.append(
            {
                "at": event.occurred_at,
                "action": event.action,
                "changes": event.changes or {},
                "who": people.get(event.actor_id) if event.actor_type == "user" else event.actor_type,
                "note": note,
            }
        )
    return items


def messages_for(concern: Concern) -> list[Message]:
    return list(db.session.scalars(select(Message).where(Message.concern_id == concern.id).order_by(Message.id)))


def team_clinicians(concern: Concern) -> list[User]:
    """Active outreach clinicians of the concern's team (for hand over)."""
    return list(
        db.session.scalars(
            select(User)
            .where(scope.holders(Permission.WORK_CALLS), User.active.is_(True), User.teams.any(id=concern.team_id))
            .order_by(User.display_name)
        )
    )
