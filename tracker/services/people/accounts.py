"""Changing staff accounts from the Staff accounts page (docs/architecture.md#set-up): a new account with a one-time
password or an invitation link, a move to another role or team, a mobile for alerts, a forgotten password or lost
authenticator, and the sign-in counts after a false alarm. Each is audited; managers create accounts only of ward
staff and outreach at their own site, and the rest is for administrators (services/scope.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import Role, Site, Team, User, Ward
from tracker.problems import FieldProblem
from tracker.services import alarms, scope
from tracker.services.paging import held
from tracker.services.people import invitations, throttle, users
from tracker.services.people.leavers import (
    AccountProblem,
    claimed_calls,
    refuse_last_administrator,
    refuse_unless_administrator,
    refuse_unless_changeable,
)
from tracker.services.people.passwords import OneTime
from tracker.services.people.sessions import end_all_sessions
from tracker.services.records import audit


@dataclass(frozen=True)
class Details:
    """An account's role and where it works, as chosen on a form (ids, checked against the person's reach)."""

    role: Role
    team_ids: list[int]
    ward_id: int | None
    site_id: int | None


@dataclass(frozen=True)
class Created:
    """A new account, with what is shown once: its one-time password or its invitation link; and a warning when
    a clinician's mobile cannot get alerts."""

    user: User
    password: str | None
    invitation: invitations.NewInvitation | None
    warning: str | None


def _actor(viewer: User | None) -> audit.Actor:
    return audit.Actor.user(viewer.id) if viewer is not None else audit.Actor.cli()


def _chosen(viewer: User, details: Details) -> tuple[list[Team], Ward | None, Site | None]:
    """The teams, ward and site chosen, each within the viewer's reach (a manager's own site), or the field
    refused. Only what the role uses is checked."""
    reach = scope.sites_to_staff(viewer)
    teams: list[Team] = []
    ward = site = None
    if details.role is Role.OUTREACH:
        teams = list(
            db.session.scalars(
                select(Team)
                .join(Site, Site.id == Team.site_id)
                .where(Team.id.in_(details.team_ids or {-1}), Team.active.is_(True), reach)
                .order_by(Team.name)
            )
        )
        if not teams or len(teams) != len(set(details.team_ids)):
            raise FieldProblem("teams", "Choose the team or teams this clinician works in")
    if details.role is Role.WARD_STAFF:
        ward = db.session.scalar(
            select(Ward).join(Site, Site.id == Ward.site_id).where(Ward.id == (details.ward_id or -1), reach)
        )
        if ward is None or ward.is_retired:
            raise FieldProblem("ward", "Choose the ward this person works on")
    if details.role is Role.MANAGER:
        site = db.session.scalar(select(Site).where(Site.id == (details.site_id or -1), reach))
        if site is None:
            raise FieldProblem("site", "Choose the site this manager manages")
    return teams, ward, site


def create_account(
    viewer: User, *, email: str, name: str, details: Details, mobile: str, invite: bool, one_time: OneTime
) -> Created:
    """A new account in the viewer's reach, shown once either its one-time password or its invitation link
    (whose password is random and never shown)."""
    if details.role not in scope.roles_to_give(viewer):
        raise FieldProblem("role", "Choose one of the roles listed")
    email = (email or "").strip().lower()
    if not users.EMAIL.match(email):
        raise FieldProblem("email", "Enter an email address, like name@nhs.net")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise FieldProblem("email", f"There is already an account for {email}")
    teams, ward, site = _chosen(viewer, details)
    try:
        number = users.typed_mobile(mobile)
    except users.MobileProblem as problem:
        raise FieldProblem("mobile", str(problem)) from None
    actor = _actor(viewer)
    user, password = users.create_user(
        actor,
        email=email,
        display_name=name,
        role=details.role,
        teams=teams,
        ward=ward,
        site=site,
        mobile=number,
        one_time=one_time,
    )
    invitation = invitations.invite(actor, user) if invite else None
    return Created(user, None if invite else password, invitation, users.mobile_warning(user.role, user.mobile))


def move(viewer: User, person: User, details: Details) -> None:
    """Give the person another role, team(s), ward or site (an administrator). Every session of theirs ends, so
    the next request reads the new role. Refused while they hold claimed calls or places on the rota of a team
    they would leave (the references and places are listed to hand over or cover first)."""
    refuse_unless_administrator(viewer)
    if viewer.id == person.id:
        raise AccountProblem("You cannot change your own role or team. Ask another administrator.")
    teams, ward, site = _chosen(viewer, details)
    users.check_scope(details.role, teams, ward, site)
    leaving = person.team_ids - {team.id for team in teams}
    references = claimed_calls(person.id, leaving) if leaving else []
    if references:
        raise AccountProblem(
            f"{person.display_name} has claimed calls of a team they would leave: {', '.join(references)}. "
            "They must hand them over (or close them) first."
        )
    if leaving and held.held(person.id, leaving):
        raise AccountProblem(
            f"{person.display_name} is on the rota of a team they would leave. Cover or remove those shifts and "
            "patterns below first."
        )
    if details.role is not Role.ADMIN:
        refuse_last_administrator(person, "given another role")
    site_id = users.home_site(details.role, teams, ward, site)
    before = (person.role, person.team_ids, person.ward_id, person.site_id)
    if before == (details.role, {t.id for t in teams}, ward.id if ward else None, site_id):
        raise AccountProblem("Nothing was changed: choose another role, team, ward or site.")
    person.role, person.teams, person.ward_id, person.site_id = details.role, teams, ward.id if ward else None, site_id
    actor = _actor(viewer)
    audit.record(
        "user_moved",
        actor,
        object_type="user",
        object_id=person.id,
        changes={
            "role_from": before[0].value,
            "role": details.role.value,
            "team_ids_from": sorted(before[1]),
            "team_ids": sorted(t.id for t in teams),
            "ward_id": person.ward_id,
            "site_id": site_id,
        },
    )
    end_all_sessions(person, "account_changed", actor=actor)


def set_mobile(viewer: User | None, person: User, raw: str) -> str | None:
    """Set or remove the person's mobile for alerts (an administrator). A number that cannot get texts is kept,
    with the warning returned."""
    refuse_unless_administrator(viewer)
    try:
        number = users.typed_mobile(raw)
    except users.MobileProblem as problem:
        raise FieldProblem("mobile", str(problem)) from None
    if number != person.mobile:
        person.mobile = number
        audit.record(
            "user_mobile_changed",
            _actor(viewer),
            object_type="user",
            object_id=person.id,
            changes={"removed": number is None},
        )
    return users.mobile_warning(person.role, number)


def invite_again(viewer: User | None, person: User, one_time: OneTime) -> invitations.NewInvitation:
    """A new invitation link for an account whose owner has never chosen a password (the last one was lost or
    ran out); any one-time password it had stops working."""
    refuse_unless_changeable(viewer, person)
    if not person.active:
        raise AccountProblem(f"{person.display_name}'s account is deactivated: reactivate it first.")
    if person.password_changed_at is not None:
        raise AccountProblem(
            f"{person.display_name} has already chosen a password. If they have forgotten it, give them a one-time "
            "password instead."
        )
    person.password_hash = one_time.hash
    person.must_change_password = True
    return invitations.invite(_actor(viewer), person)


def _refuse_own(viewer: User | None, person: User, what: str) -> None:
    if viewer is not None and viewer.id == person.id:
        raise AccountProblem(f"Change your own {what} on your account page.")


def reset_password(viewer: User | None, person: User, one_time: OneTime) -> str:
    """A one-time password for someone who forgot theirs (shown once): their sessions end, and they choose their
    own at the next sign-in."""
    refuse_unless_administrator(viewer)
    _refuse_own(viewer, person, "password")
    return users.give_one_time_password(_actor(viewer), person, one_time)


def reset_authenticator(viewer: User | None, person: User) -> None:
    """Forget a lost authenticator: the old one stops working, every session ends, and the next sign-in must set
    up a new one."""
    from tracker.services.people.auth import reset_authenticator as reset

    refuse_unless_administrator(viewer)
    _refuse_own(viewer, person, "authenticator app")
    reset(_actor(viewer), person)


def clear_sign_in_counts(viewer: User | None, person: User) -> None:
    """Forget the wrong passwords and codes counted against the account (after a false alarm): its next sign-in
    is not slowed, and the alarm about it is cleared."""
    refuse_unless_administrator(viewer)
    throttle.reset([throttle.account_key(person.email), throttle.code_key(person.id)])
    alarms.clear_alarm("sign_in_attack", f"user:{person.id}")
    audit.record("sign_in_counts_cleared", _actor(viewer), object_type="user", object_id=person.id)
