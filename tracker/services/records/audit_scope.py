"""Which audit events a site's manager may read (docs/architecture.md#audit): the audit page and the audit
export both filter with `at_site`, so the two never disagree.

An event about a call belongs to the call's site. An event about no call belongs to the site of what it is
about: a staff account (services/people/access_review.py: a site's accounts), a site, a team, a ward, a bed,
a device, a rota pattern, a shift or a team's escalation policy. Anything else (the trust's settings, a
session, an export, a look at the audit log) belongs to whoever did it: the manager's site sees it when the
actor is one of the site's accounts, an administrator (who works for the whole trust), or the system
itself. So a manager never reads another site's joiners, leavers, rota changes or searches."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, Select, and_, or_, select

from tracker.models import (
    AuditEvent,
    Bed,
    Concern,
    EnrolledDevice,
    EscalationPolicy,
    ImprovementBaseline,
    ImprovementChange,
    Role,
    RotaPattern,
    Shift,
    Site,
    SiteImplementation,
    Team,
    User,
    Ward,
)
from tracker.services.people.access_review import accounts_at_site

# Events about a staff account (its creation, role, teams, ward, deactivation, password and authenticator) are
# recorded with this object type and the account's id.
ACCOUNT_OBJECT = "user"


def _teams(site_id: int) -> Select:
    return select(Team.id).where(Team.site_id == site_id)


def _wards(site_id: int) -> Select:
    return select(Ward.id).where(Ward.site_id == site_id)


# object_type: the ids of such objects at a site.
SITE_OBJECTS: dict[str, Callable[[int], Select]] = {
    ACCOUNT_OBJECT: lambda site_id: select(User.id).where(accounts_at_site(site_id)),
    "site": lambda site_id: select(Site.id).where(Site.id == site_id),
    "site_implementation": lambda site_id: select(SiteImplementation.id).where(SiteImplementation.site_id == site_id),
    "improvement_change": lambda site_id: select(ImprovementChange.id).where(ImprovementChange.site_id == site_id),
    "improvement_baseline": lambda site_id: select(ImprovementBaseline.id).where(
        ImprovementBaseline.site_id == site_id
    ),
    "team": _teams,
    "ward": _wards,
    "bed": lambda site_id: select(Bed.id).where(Bed.ward_id.in_(_wards(site_id))),
    "enrolled_device": lambda site_id: select(EnrolledDevice.id).where(EnrolledDevice.site_id == site_id),
    "rota_pattern": lambda site_id: select(RotaPattern.id).where(RotaPattern.team_id.in_(_teams(site_id))),
    "shift": lambda site_id: select(Shift.id).where(Shift.team_id.in_(_teams(site_id))),
    "escalation_policy": lambda site_id: select(EscalationPolicy.id).where(
        EscalationPolicy.team_id.in_(_teams(site_id))
    ),
}


def _by_object(site_id: int) -> ColumnElement[bool]:
    return or_(
        *(
            and_(AuditEvent.object_type == kind, AuditEvent.object_id.in_(ids(site_id)))
            for kind, ids in SITE_OBJECTS.items()
        )
    )


def _by_actor(site_id: int) -> ColumnElement[bool]:
    return and_(
        # Not NOT IN: the export's PostgreSQL COPY is compiled to text, where an expanding list has no place.
        or_(AuditEvent.object_type.is_(None), and_(*(AuditEvent.object_type != kind for kind in SITE_OBJECTS))),
        or_(
            AuditEvent.actor_type != "user",
            AuditEvent.actor_id.in_(select(User.id).where(or_(User.role == Role.ADMIN, accounts_at_site(site_id)))),
        ),
    )


def at_site(site_id: int, concern: type[Concern]) -> ColumnElement[bool]:
    """The events of `site_id`, for a query that outer-joins `concern` on the event's call."""
    return or_(
        and_(AuditEvent.concern_id.is_not(None), concern.site_id == site_id),
        and_(AuditEvent.concern_id.is_(None), or_(_by_object(site_id), _by_actor(site_id))),
    )
