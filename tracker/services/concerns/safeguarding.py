"""The safeguarding flag on a call (docs/architecture.md#concerns-and-their-clocks): when the clinician fears that
texting the caller could put the patient or someone else at risk (the caller may be the risk). An `outreach`
clinician or a `manager` sets it; only a `manager` clears it; both are audited. While it is set nothing more is
texted to the caller (updates, automatic replies, HELP answers: whatever is waiting is cancelled at once), the
caller's details leave every export, and the call's page names the trust's safeguarding lead. Linked calls and
follow-up calls are about one patient, so they share the flag (services/concerns/linking.py)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Concern, User
from tracker.problems import Problem
from tracker.services import scope
from tracker.services.concerns import linking
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
    now = utcnow()
    db.session.execute(
        update(Concern)
        .where(Concern.id == concern.id)
        .values(safeguarding=True, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(concern, "safeguarding", True)
    cancelled = cancel_waiting_family_texts("safeguarding", concern_id=concern.id)
    audit.record(
        "safeguarding_flag_set",
        audit.Actor.user(user.id),
        object_type="concern",
        object_id=concern.id,
        concern_id=concern.id,
        changes={"texts_cancelled": cancelled},
    )
    for related in linking.related_calls(concern):
        linking.flag_inherited(related, user)


def clear_flag(concern: Concern, user: User) -> None:
    if not scope.can(user, Permission.CLEAR_SAFEGUARDING):
        raise SafeguardingProblem("Only a manager can clear a safeguarding flag")
    if not concern.safeguarding:
        return
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
    for related in linking.related_calls(concern):
        if related.safeguarding:  # one patient's calls share the flag, so it is cleared on all of them
            clear_flag(related, user)


def number_is_safeguarded(number: str) -> bool:
    """Whether any call from this number is flagged: no automatic reply (HELP included) goes to it."""
    return bool(
        db.session.scalar(
            select(Concern.id).where(Concern.callback_number == number, Concern.safeguarding.is_(True)).limit(1)
        )
    )
