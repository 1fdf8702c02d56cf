"""Wards as plain values, read with one query. The family's form looks its ward up on every
request, so the lookup by code is kept in memory for a few seconds; anything that must be exact
(raising a concern) reads afresh by id."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import aliased, selectinload

from tracker.extensions import db
from tracker.models import Bed, Site, Team, Ward
from tracker.services.setup import ward_search

CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class SiteInfo:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class TeamInfo:
    id: int
    name: str
    public_phone: str
    duty_phone: str | None
    review_target_minutes: int


@dataclass(frozen=True)
class WardInfo:
    id: int
    code: str
    name: str
    site: SiteInfo
    team: TeamInfo
    bed_labels: tuple[str, ...]  # the beds in use, in the ward's order (services/setup/beds.py)
    kiosk_default: bool
    retired_at: datetime | None
    successor: WardInfo | None = None

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    @property
    def beds(self) -> list[str]:
        return list(self.bed_labels)

    @property
    def site_id(self) -> int:
        return self.site.id

    @property
    def team_id(self) -> int:
        return self.team.id


_successor = aliased(Ward)
_QUERY = (
    select(
        Ward.id,
        Ward.code,
        Ward.name,
        Ward.kiosk_default,
        Ward.retired_at,
        Site.id,
        Site.code,
        Site.name,
        Team.id,
        Team.name,
        Team.public_phone,
        Team.duty_phone,
        Team.review_target_minutes,
        _successor.id,
        _successor.code,
        _successor.name,
        _successor.retired_at,
    )
    .join(Site, Site.id == Ward.site_id)
    .join(Team, Team.id == Ward.team_id)
    .outerjoin(_successor, _successor.id == Ward.successor_id)
)
_BY_CODE = _QUERY.where(Ward.code == bindparam("code"))
_BY_ID = _QUERY.where(Ward.id == bindparam("ward_id"))
_BEDS = (
    select(Bed.label)
    .where(Bed.ward_id == bindparam("ward_id"), Bed.retired_at.is_(None))
    .order_by(Bed.position, Bed.id)
)
_cache: dict[tuple[str, str], tuple[float, WardInfo | None]] = {}


def _info(row: Row, *, beds: bool = True) -> WardInfo:
    (
        ward_id,
        code,
        name,
        kiosk,
        retired,
        site_id,
        site_code,
        site_name,
        team_id,
        team_name,
        team_phone,
        duty_phone,
        review_target,
        successor_id,
        successor_code,
        successor_name,
        successor_retired,
    ) = row
    site = SiteInfo(site_id, site_code, site_name)
    team = TeamInfo(team_id, team_name, team_phone, duty_phone, review_target)
    successor = None
    if successor_id is not None:
        successor = WardInfo(successor_id, successor_code, successor_name, site, team, (), False, successor_retired)
    labels = tuple(db.session.scalars(_BEDS, {"ward_id": ward_id})) if beds else ()
    return WardInfo(ward_id, code, name, site, team, labels, kiosk, retired, successor)


def ward_by_code(code: str) -> WardInfo | None:
    """The ward for a permanent link's code (cached for a few seconds)."""
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"], code)
    cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    row = db.session.execute(_BY_CODE, {"code": code}).first()
    info = _info(row) if row is not None else None
    _cache[key] = (time.monotonic(), info)
    return info


def ward_by_id(ward_id: int, *, beds: bool = True) -> WardInfo | None:
    """The ward as it is now in the database (not cached); without its beds' labels (no `bed_labels`) when the
    caller needs none, as raising a concern does not (the form checked the bed already)."""
    row = db.session.execute(_BY_ID, {"ward_id": ward_id}).first()
    return _info(row, beds=beds) if row is not None else None


def forget_wards() -> None:
    _cache.clear()


def open_wards_by_site(query: str = "") -> list[tuple[Site, list[Ward]]]:
    """The ward chooser: each active site with its open wards, those matching `query` when one is given
    (services/setup/ward_search.py: forgiving of spacing, word order and a typo)."""
    sites = db.session.scalars(
        select(Site).where(Site.active.is_(True)).order_by(Site.name).options(selectinload(Site.wards))
    ).all()
    grouped = []
    for site in sites:
        wards = [w for w in site.wards if not w.is_retired and ward_search.matches(query, w.name, site.name, w.code)]
        if wards:
            grouped.append((site, wards))
    return grouped
