"""The safeguarding flag on a call (docs/architecture.md#concerns-and-their-clocks): when the clinician fears that
texting the caller could put the patient or someone else at risk (the caller may be the risk). An `outreach`
clinician or a `manager` sets it; only a `manager` clears it; both are audited. While it is set nothing more is
texted to the caller (updates, automatic replies, HELP answers: whatever is waiting is cancelled at once), the
caller's details leave every export, and the call's page names the trust's safeguarding lead. Linked calls and
follow-up calls are about one patient, so they share the flag (services/concerns/linking.py)."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Concern, User
from tracker.problems import Problem
from tracker.services import scope
from tracker.services.messaging.notifications import cancel_waiting_family_texts
from tracker.services.records import audit
from tracker.services.scope import Permission


class SafeguardingProblem(Problem):
    """The flag cannot be changed by this person."""


def set_flag(concern: Concern, user: User) -> None:
    if not scope.can(user, Permission.FLAG_SAFEGUARDING):
        raise SafeguardingProblem("Only the outreach team or a manager can flag a call for safeguarding")
    if concern.safeguarding:
        return
    _flag(concern, user, inherited=False)
    for related in related_calls(concern):
        _flag(related, user, inherited=True)


def share_flag(calls: list[Concern], user: User) -> None:
    """Calls just joined (linked, or one raised from another's text) are one patient's: if any of them, or any call
    related to them, is flagged, all of them are."""
    group = {c.id: c for c in calls}
    for call in calls:
        group.update((c.id, c) for c in related_calls(call))
    if any(c.safeguarding for c in group.values()):
        for call in group.values():
            if not call.safeguarding:
                _flag(call, user, inherited=True)


def _flag(concern: Concern, user: User, *, inherited: bool) -> None:
    db.session.execute(
        update(Concern)
        .where(Concern.id == concern.id)
        .values(safeguarding=True, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    set_committed_value(concern, "safeguarding", True)  # not an edit: nobody's open page goes stale
    cancelled = cancel_waiting_family_texts("safeguarding", concern_id=concern.id)
    changes: dict = {"texts_cancelled": cancelled}
    if inherited:
        changes["inherited"] = True
    audit.record(
        "safeguarding_flag_set",
        audit.Actor.user(user.id),
        object_type="concern",
        object_id=concern.id,
        concern_id=concern.id,
        changes=changes,
    )


def clear_flag(concern: Concern, user: User) -> None:
    if not scope.can(user, Permission.CLEAR_SAFEGUARDING):
        raise SafeguardingProblem("Only a manager can clear a safeguarding flag")
    for call in [concern, *related_calls(concern)]:  # one patient's calls share the flag, so all are cleared
        if call.safeguarding:
            _clear(call, user)


def _clear(concern: Concern, user: User) -> None:
    db.session.execute(
        update(Concern)
        .where(Concern.id == concern.id)
        .values(safeguarding=False, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    set_committed_value(concern, "safeguarding", False)
    audit.record(
        "safeguarding_flag_cleared",
        audit.Actor.user(user.id),
        object_type="concern",
        object_id=concern.id,
        concern_id=concern.id,
    )


def related_calls(call: Concern) -> list[Concern]:
    """Every call linked with this one or following it up, either way, and theirs in turn: one patient's calls
    (services/concerns/linking.py)."""
    seen = {call.id}
    frontier = [call]
    found: list[Concern] = []
    while frontier:
        ids = [c.id for c in frontier]
        outward = [c.linked_to_id for c in frontier if c.linked_to_id] + [
            c.follows_id for c in frontier if c.follows_id
        ]
        frontier = [
            c
            for c in db.session.scalars(
                select(Concern).where(
                    or_(Concern.id.in_(outward), Concern.linked_to_id.in_(ids), Concern.follows_id.in_(ids))
                )
            )
            if c.id not in seen
        ]
        seen.update(c.id for c in frontier)
        found.extend(frontier)
    return found


def number_is_safeguarded(number: str) -> bool:
    """Whether any call from this number is flagged: no automatic reply (HELP included) goes to it."""
    return bool(
        db.session.scalar(
            select(Concern.id).where(Concern.callback_number == number, Concern.safeguarding.is_(True)).limit(1)
        )
    )
