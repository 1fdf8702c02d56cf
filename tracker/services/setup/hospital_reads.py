"""What the Sites, teams and Wards pages show (docs/architecture.md#set-up), each within the person's reach
(`services/scope.py`: a manager's own site, an administrator's every site). Anything beyond reach is None, which the
page answers with 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from tracker.extensions import db
from tracker.models import Bed, Concern, Site, Team, User, Ward
from tracker.models.concern import OPEN_STATUSES
from tracker.services import scope


@dataclass(frozen=True)
class SiteRow:
    code: str
    name: str
    teams: int
    open_wards: int


@dataclass(frozen=True)
class WardRow:
    code: str
    name: str
    team_name: str
    beds: int
    has_nurse_in_charge: bool
    retired_at: datetime | None
    successor_name: str | None


def sites_in_reach(user: User) -> list[SiteRow]:
    """Every site the person may see, with how many teams and open wards each has."""
    teams = select(func.count(Team.id)).where(Team.site_id == Site.id).scalar_subquery()
    wards = select(func.count(Ward.id)).where(Ward.site_id == Site.id, Ward.retired_at.is_(None)).scalar_subquery()
    rows = db.session.execute(
        select(Site.code, Site.name, teams, wards).where(scope.sites(user)).order_by(Site.name)
    ).all()
    return [SiteRow(*row) for row in rows]


def site_in_reach(user: User, code: str) -> Site | None:
    return db.session.scalar(select(Site).where(Site.code == code[:32], scope.sites(user)))


def team_in_reach(user: User, code: str) -> Team | None:
    """A team whose site the person may see (a manager reads their own site's teams)."""
    return db.session.scalar(
        select(Team).join(Site, Site.id == Team.site_id).where(Team.code == code[:32], scope.sites(user))
    )


def site_teams(site_id: int, *, active_only: bool = False) -> list[Team]:
    query = select(Team).where(Team.site_id == site_id)
    if active_only:
        query = query.where(Team.active.is_(True))
    return list(db.session.scalars(query.order_by(Team.name)))


def ward_in_reach(user: User, code: str) -> Ward | None:
    """A ward the person may change (a manager's own site's; any, for an administrator)."""
    return db.session.scalar(select(Ward).where(Ward.code == code[:32], scope.wards_to_set_up(user)))


def sites_to_set_up_wards(user: User) -> list[Site]:
    """The sites whose wards the person may add and change."""
    if not scope.can(user, scope.Permission.EDIT_WARDS):
        return []
    return list(db.session.scalars(select(Site).where(scope.sites(user)).order_by(Site.name)))


def wards_by_site(user: User) -> list[tuple[Site, list[WardRow]]]:
    """Each site whose wards the person may change, with its wards (open ones first, then closed), their team,
    beds in use, whether the nurse in charge has a number, and whether and when they closed."""
    successor = aliased(Ward)
    beds = select(func.count(Bed.id)).where(Bed.ward_id == Ward.id, Bed.retired_at.is_(None)).scalar_subquery()
    rows = db.session.execute(
        select(Ward, Team.name, beds, successor.name)
        .join(Team, Team.id == Ward.team_id)
        .outerjoin(successor, successor.id == Ward.successor_id)
        .where(scope.wards_to_set_up(user))
        .order_by(Ward.retired_at.is_not(None), Ward.name)
    ).all()
    by_site: dict[int, list[WardRow]] = {}
    for ward, team_name, bed_count, successor_name in rows:
        by_site.setdefault(ward.site_id, []).append(
            WardRow(
                ward.code,
                ward.name,
                team_name,
                bed_count,
                ward.nurse_in_charge_phone is not None,
                ward.retired_at,
                successor_name,
            )
        )
    return [(site, by_site.get(site.id, [])) for site in sites_to_set_up_wards(user)]


def open_call_references(ward_id: int) -> list[str]:
    """The references of the ward's calls still open (new, claimed or reviewed), oldest first: listed before the
    ward is closed, as they stay on the team's queue."""
    return list(
        db.session.scalars(
            select(Concern.reference)
            .where(Concern.ward_id == ward_id, Concern.status.in_(OPEN_STATUSES))
            .order_by(Concern.raised_at, Concern.id)
        )
    )


def successor_choices(user: User, ward: Ward) -> list[Ward]:
    """The open wards a closing ward's patients may have moved to: any other open ward the person may change."""
    return list(
        db.session.scalars(
            select(Ward)
            .where(Ward.id != ward.id, Ward.retired_at.is_(None), scope.wards_to_set_up(user))
            .order_by(Ward.name)
        )
    )
