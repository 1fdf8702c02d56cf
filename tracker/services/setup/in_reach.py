"""The sites, teams and wards a person's pages offer them (docs/architecture.md#access): the queue's headings and site
filter, the wards the staff route may raise a call for, and the sites and wards a manager reports on, each within the
person's reach (`services/scope.py`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.models import (
    Concern,
    Site,
    Team,
    User,
    Ward,
)
from tracker.services import scope
from tracker.services.scope import Reach


def site_id_for_code(code: str) -> int:
    """The queue's site filter: the site with this code, or -1 (no calls) when there is none."""
    site = db.session.scalar(select(Site.id).where(Site.code == code[:32].lower()))
    return site if site is not None else -1


def teams_and_sites(user: User) -> tuple[list[Team], list[Site]]:
    """The teams in the person's reach and their sites, for the queue's headings and site filter."""
    if scope.reach(user) is Reach.TEAMS:
        teams = list(user.teams)
    else:
        teams = list(db.session.scalars(select(Team).where(Team.site_id == user.site_id)))
    return teams, sorted({team.site for team in teams}, key=lambda site: site.name)


def wards_to_raise_for(user: User) -> list[Ward]:
    """The open wards a person may raise a call for (the staff route), with their sites."""
    query = select(Ward).where(Ward.retired_at.is_(None), scope.wards_to_raise_for(user))
    return list(db.session.scalars(query.options(joinedload(Ward.site)).order_by(Ward.name)))


def managed_sites(user: User) -> list[Site]:
    """The sites a manager reports on and exports from: their own."""
    return list(db.session.scalars(select(Site).where(Site.id == user.site_id))) if user.site_id else []


def site_wards(site_id: int) -> list[Ward]:
    return list(db.session.scalars(select(Ward).where(Ward.site_id == site_id).order_by(Ward.name)))


def concern_id_at_site(site_id: int, reference: str) -> int | None:
    return db.session.scalar(select(Concern.id).where(Concern.reference == reference, Concern.site_id == site_id))
