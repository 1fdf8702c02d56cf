"""Closing and reopening staff accounts (docs/architecture.md#set-up). A closed account's sessions all end at once,
texts still waiting for it are cancelled (the call's next step comes at once), and the rota never puts it on call
again. An account is closed only once its places on the rota are covered or removed and its claimed calls handed
over; an administrator may close one at once with a coded reason (a security incident), which is audited and
raises the rota-gap alarm for what it leaves with nobody to alert. Nobody closes their own account, and the last
active administrator's cannot be closed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Audience, Concern, ConcernStatus, Message, Role, SendState, User
from tracker.problems import FieldProblem, Problem
from tracker.services import scope
from tracker.services.concerns import triage
from tracker.services.paging import escalation, held, rota
from tracker.services.paging.rows import CONCERNS
from tracker.services.people.invitations import cancel_pending
from tracker.services.people.sessions import end_all_sessions
from tracker.services.records import audit
from tracker.services.scope import Permission

# Why an administrator closed an account at once: coded, so the audit holds no free text.
AT_ONCE_REASONS = {
    "security_incident": "A security incident: the account may be misused",
    "left_without_notice": "They have left, or must stop at once, without notice",
    "other_urgent": "Another urgent reason, recorded in the trust's own incident system",
}
CLAIMED = (ConcernStatus.ACKNOWLEDGED, ConcernStatus.REVIEWED)


class AccountProblem(Problem):
    """A change to an account that cannot be made; the message says why in plain English."""


@dataclass(frozen=True)
class ClosedAtOnce:
    """What closing an account at once left behind: claimed calls (references) and teams with a rota gap."""

    references: list[str]
    gapped_team_ids: list[int]


def claimed_calls(user_id: int, team_ids: set[int] | None = None) -> list[str]:
    """References of the open calls the person has claimed (in these teams only, when given)."""
    query = select(Concern.reference).where(Concern.claimed_by_id == user_id, Concern.status.in_(CLAIMED))
    if team_ids is not None:
        query = query.where(Concern.team_id.in_(team_ids or {-1}))
    return list(db.session.scalars(query.order_by(Concern.reference)))


def refuse_unless_changeable(viewer: User | None, person: User) -> None:
    """Managers change only the ward staff and outreach wholly of their own site (None: the command line)."""
    if viewer is not None and not scope.may_change_account(viewer, person):
        raise AccountProblem(f"Only an administrator can change {person.display_name}'s account.")


def refuse_unless_administrator(viewer: User | None) -> None:
    if viewer is not None and not scope.can(viewer, Permission.ADMINISTER_STAFF):
        raise AccountProblem("Only an administrator can do that.")


def refuse_last_administrator(person: User, doing: str) -> None:
    """The trust must keep an active administrator: the others are counted with their rows locked, so two
    administrators closing each other's accounts at the same moment cannot both succeed."""
    if person.role is not Role.ADMIN or not person.active:
        return
    others = db.session.scalars(
        select(User.id)
        .where(User.role == Role.ADMIN, User.active.is_(True), User.id != person.id)
        .order_by(User.id)
        .with_for_update()
    ).all()
    if not others:
        raise AccountProblem(
            f"{person.display_name} is the last active administrator, so their account cannot be {doing}. "
            "Make someone else an administrator first."
        )


def _refuse_closing(viewer: User | None, person: User) -> None:
    refuse_unless_changeable(viewer, person)
    if viewer is not None and viewer.id == person.id:
        raise AccountProblem("You cannot deactivate your own account. Ask another administrator.")
    if not person.active:
        raise AccountProblem(f"{person.display_name}'s account is already deactivated.")
    refuse_last_administrator(person, "deactivated")


def deactivate(viewer: User | None, person: User, actor: audit.Actor) -> None:
    """Close the account once nothing depends on it: refused, with what to do first, while the person holds
    claimed calls or places on the rota (the person's page lists each, to cover or remove)."""
    _refuse_closing(viewer, person)
    references = claimed_calls(person.id)
    if references:
        raise AccountProblem(
            f"{person.display_name} has claimed calls that are still open: {', '.join(references)}. "
            "They must hand them over (or close them) before their account can be deactivated."
        )
    if held.held(person.id):
        raise AccountProblem(
            f"{person.display_name} is still on the rota. Cover or remove each of their shifts and patterns "
            "below before their account is deactivated."
        )
    _close(actor, person, "user_deactivated", {})


def deactivate_at_once(viewer: User | None, person: User, reason: str, actor: audit.Actor) -> ClosedAtOnce:
    """An administrator closes the account now, whatever it holds (a security incident): audited with the
    coded reason; each team and tier it leaves with nobody to alert in the coming week raises the rota-gap
    alarm. Its claimed calls go back on the queue, paging again, so the team can take them; a call already
    reviewed (or following another) stays as it is and is returned for the page to list."""
    refuse_unless_administrator(viewer)
    if reason not in AT_ONCE_REASONS:
        raise FieldProblem("reason", "Choose why the account must be deactivated at once")
    _refuse_closing(viewer, person)
    places = held.held(person.id)
    left = held.tiers_held(places)
    references = claimed_calls(person.id)
    changes = {"reason": reason, "places_left": len(places.shifts) + len(places.patterns), "calls": len(references)}
    _close(actor, person, "user_deactivated_at_once", changes)
    if viewer is not None:
        still = [ref for ref in references if not triage.release_from_leaver(_concern_id(ref), person, viewer)]
    else:
        still = references
    return ClosedAtOnce(still, held.raise_gap_alarms(left))


def _concern_id(reference: str) -> int:
    return db.session.scalar(select(Concern.id).where(Concern.reference == reference)) or -1


def _close(actor: audit.Actor, person: User, action: str, changes: dict) -> None:
    person.active = False
    cancel_pending(person)
    _stop_alerts(person, actor)
    audit.record(action, actor, object_type="user", object_id=person.id, changes={"role": person.role.value, **changes})
    end_all_sessions(person, "account_disabled", actor=actor)


def _stop_alerts(person: User, actor: audit.Actor) -> None:
    """Texts still waiting to go to the person are cancelled, and each unclaimed call they were for moves to its
    next step now, rather than waiting for an alert that will never be answered. The calls' rows are locked first
    (docs/architecture.md#audit: rows, then the chain head)."""
    waiting = list(
        db.session.scalars(
            select(Message).where(
                Message.recipient_user_id == person.id,
                Message.audience == Audience.CLINICIAN,
                Message.send_state == SendState.PENDING,
            )
        )
    )
    concern_ids = sorted({m.concern_id for m in waiting if m.concern_id is not None})
    if concern_ids:
        db.session.execute(
            select(CONCERNS.c.id).where(CONCERNS.c.id.in_(concern_ids)).order_by(CONCERNS.c.id).with_for_update()
        )
    for message in waiting:
        message.send_state = SendState.CANCELLED
        audit.record(
            "message_cancelled",
            actor,
            object_type="message",
            object_id=message.id,
            concern_id=message.concern_id,
            changes={"reason": "recipient_left"},
        )
    for concern_id in concern_ids:
        escalation.move_on_now(concern_id, "recipient_left")


def reactivate(viewer: User | None, person: User, actor: audit.Actor) -> None:
    """Open a closed account again (an administrator): its password and authenticator are as they were; the
    person is on no rota until put back on one."""
    refuse_unless_administrator(viewer)
    if person.active:
        raise AccountProblem(f"{person.display_name}'s account is already active.")
    person.active = True
    audit.record(
        "user_reactivated", actor, object_type="user", object_id=person.id, changes={"role": person.role.value}
    )


def cover_shift(viewer: User | None, person: User, shift_id: int, cover_id: int | None) -> None:
    """A colleague takes one of the person's shifts, or (with nobody) the shift is cancelled."""
    refuse_unless_changeable(viewer, person)
    shift = held.shift_of(person.id, shift_id)
    if shift is None:
        raise AccountProblem("That shift is no longer on the rota.")
    actor = audit.Actor.user(viewer.id) if viewer is not None else audit.Actor.cli()
    if cover_id is None:
        rota.cancel_shift(actor, shift)
    else:
        held.cover_shift(actor, shift, cover_id)


def cover_pattern(viewer: User | None, person: User, pattern_id: int, cover_id: int | None) -> None:
    """A colleague takes the person's turns in a pattern, or (with nobody) the person is taken out of it."""
    refuse_unless_changeable(viewer, person)
    pattern = held.pattern_of(person.id, pattern_id)
    if pattern is None:
        raise AccountProblem("They no longer take turns in that pattern.")
    actor = audit.Actor.user(viewer.id) if viewer is not None else audit.Actor.cli()
    held.cover_pattern(actor, pattern, person.id, cover_id)
