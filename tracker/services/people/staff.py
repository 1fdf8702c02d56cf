"""What the Staff accounts pages read (docs/architecture.md#set-up): the accounts in a person's reach (an
administrator's trust, a manager's site), filtered by role, site and whether active; one account with its state in
words; the sites, teams and wards a new account may be given. Reads only: changes are in `accounts.py` and
`leavers.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import AuditEvent, Role, Site, Team, User, Ward
from tracker.services import scope
from tracker.services.people import invitations


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to: None is every one."""

    role: Role | None = None
    site_id: int | None = None
    active: bool | None = True


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    email: str
    role: Role
    where: str
    state: str
    last_sign_in_at: datetime | None


def where_words(person: User) -> str:
    """Where the account works, in words: its teams, its ward and site, or its site."""
    if person.role is Role.OUTREACH:
        return ", ".join(team.name for team in person.teams) or "No team"
    if person.role is Role.WARD_STAFF:
        return f"{person.ward.name}, {person.ward.site.name}" if person.ward else "No ward"
    if person.role is Role.MANAGER:
        return person.site.name if person.site else "No site"
    return "Every site"


def state_words(person: User) -> str:
    """Whether the account can be used, in words."""
    if not person.active:
        return "Deactivated"
    if person.password_changed_at is None:
        invitation = invitations.pending(person)
        if invitation is not None:
            return "Invited: link not used yet" if invitation.expires_at > utcnow() else "Invitation ran out unused"
        if person.last_sign_in_at is None:
            return "Not signed in yet"
    if person.must_change_password:
        return "Must choose a new password"
    return "Active"


def listing(viewer: User, filters: Filters) -> list[Row]:
    """The accounts in the viewer's reach that pass the filters, by name."""
    query = select(User).where(scope.accounts(viewer)).options(selectinload(User.teams))
    if filters.role is not None:
        query = query.where(User.role == filters.role)
    if filters.active is not None:
        query = query.where(User.active.is_(filters.active))
    if filters.site_id is not None:
        site = filters.site_id
        query = query.where(
            or_(User.site_id == site, User.teams.any(Team.site_id == site), User.ward.has(Ward.site_id == site))
        )
    people = db.session.scalars(query.order_by(User.display_name, User.id)).all()
    return [
        Row(p.id, p.display_name, p.email, p.role, where_words(p), state_words(p), p.last_sign_in_at) for p in people
    ]


def person(viewer: User, user_id: int) -> User | None:
    """One account, if in the viewer's reach (the page answers 404 otherwise)."""
    return db.session.scalar(select(User).where(User.id == user_id, scope.accounts(viewer)))


def sites(viewer: User) -> list[Site]:
    """The sites whose teams, wards and staff this person may choose among."""
    return list(db.session.scalars(select(Site).where(scope.sites_to_staff(viewer)).order_by(Site.name)))


def teams(viewer: User) -> list[Team]:
    return list(
        db.session.scalars(
            select(Team)
            .join(Site, Site.id == Team.site_id)
            .where(Team.active.is_(True), scope.sites_to_staff(viewer))
            .order_by(Site.name, Team.name)
        )
    )


def wards(viewer: User) -> list[Ward]:
    return list(
        db.session.scalars(
            select(Ward)
            .join(Site, Site.id == Ward.site_id)
            .where(Ward.retired_at.is_(None), scope.sites_to_staff(viewer))
            .order_by(Site.name, Ward.name)
        )
    )


def last_closed(person: User) -> AuditEvent | None:
    """When and why the account was last deactivated (its audit row), for its page."""
    return db.session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "user",
            AuditEvent.object_id == person.id,
            AuditEvent.action.in_(("user_deactivated", "user_deactivated_at_once")),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
