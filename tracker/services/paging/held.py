"""The places on the rota a person holds (docs/architecture.md#set-up): their one-off shifts not yet over and the
repeating patterns they take turns in, each to be covered by a colleague or removed before the person leaves or
moves team; and, when an administrator closes an account at once, which tiers that leaves with nobody to alert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import RotaPattern, Shift, Team, Tier
from tracker.services import alarms
from tracker.services.paging import rota
from tracker.services.paging.rota_reads import members
from tracker.services.records import audit

# How far ahead a closed account's places are checked for gaps: the rota pages' week.
LOOK_AHEAD = timedelta(days=7)


@dataclass(frozen=True)
class Held:
    """A person's places on the rota: shifts not yet over (soonest first) and the patterns they take turns in."""

    shifts: list[Shift]
    patterns: list[RotaPattern]

    def __bool__(self) -> bool:
        return bool(self.shifts or self.patterns)

    def team_ids(self) -> set[int]:
        return {shift.team_id for shift in self.shifts} | {pattern.team_id for pattern in self.patterns}


def held(user_id: int, team_ids: set[int] | None = None, now: datetime | None = None) -> Held:
    """Every place the person holds (in these teams only, when given)."""
    now = now or utcnow()
    shifts = select(Shift).where(Shift.user_id == user_id, Shift.cancelled_at.is_(None), Shift.ends_at > now)
    patterns = select(RotaPattern).where(RotaPattern.active.is_(True))
    if team_ids is not None:
        shifts = shifts.where(Shift.team_id.in_(team_ids or {-1}))
        patterns = patterns.where(RotaPattern.team_id.in_(team_ids or {-1}))
    return Held(
        list(db.session.scalars(shifts.order_by(Shift.starts_at, Shift.id))),
        [p for p in db.session.scalars(patterns.order_by(RotaPattern.team_id, RotaPattern.id)) if user_id in p.people],
    )


def shift_of(user_id: int, shift_id: int) -> Shift | None:
    return db.session.scalar(
        select(Shift).where(
            Shift.id == shift_id, Shift.user_id == user_id, Shift.cancelled_at.is_(None), Shift.ends_at > utcnow()
        )
    )


def pattern_of(user_id: int, pattern_id: int) -> RotaPattern | None:
    pattern = db.session.scalar(select(RotaPattern).where(RotaPattern.id == pattern_id, RotaPattern.active.is_(True)))
    return pattern if pattern is not None and user_id in pattern.people else None


def colleagues(team_id: int, user_id: int) -> list[tuple[int, str]]:
    """Who may cover for the person in this team: its other active members."""
    return [(member.id, member.display_name) for member in members(team_id) if member.id != user_id]


def cover_shift(actor: audit.Actor, shift: Shift, cover_id: int) -> Shift:
    """A colleague takes the shift (from now, if it has begun): the same team, tier and kind; the person's is
    cancelled. Refused (RotaProblem) for anyone not an active member of the team."""
    team = db.session.get_one(Team, shift.team_id)
    if cover_id == shift.user_id:
        raise rota.RotaProblem("Choose someone else to cover this shift")
    cover = rota.add_shift(
        actor,
        team,
        tier=shift.tier,
        user_id=cover_id,
        starts_at=max(shift.starts_at, utcnow()),
        ends_at=shift.ends_at,
        kind=shift.kind,
    )
    rota.cancel_shift(actor, shift)
    return cover


def cover_pattern(actor: audit.Actor, pattern: RotaPattern, user_id: int, cover_id: int | None) -> None:
    """A colleague takes the person's turns in the pattern (the others' turns are unchanged), or, with no
    colleague, the person is taken out (the others' turns move up; a pattern left with nobody ends)."""
    team = db.session.get_one(Team, pattern.team_id)
    if cover_id is not None:
        if cover_id == user_id:
            raise rota.RotaProblem("Choose someone else to take these turns")
        rota.team_member(team, cover_id)
        people = [cover_id if person == user_id else person for person in pattern.people]
    else:
        people = [person for person in pattern.people if person != user_id]
    pattern.people = people  # a new list, so the change is saved
    if not people:
        rota.end_pattern(actor, pattern)
        return
    audit.record(
        "rota_pattern_changed",
        actor,
        object_type="rota_pattern",
        object_id=pattern.id,
        changes={"team_id": pattern.team_id, "removed": user_id, "covered_by": cover_id},
    )


def tiers_held(places: Held) -> set[tuple[int, Tier]]:
    """Each team and tier the places are in."""
    return {(shift.team_id, shift.tier) for shift in places.shifts} | {(p.team_id, p.tier) for p in places.patterns}


def raise_gap_alarms(left: set[tuple[int, Tier]], now: datetime | None = None) -> list[int]:
    """After places were left uncovered (an account closed at once): each team where a tier they were in has, in
    the coming week, nobody who can be alerted gets the rota-gap alarm, about that team. Returns those teams."""
    now = now or utcnow()
    gapped = sorted({team_id for team_id, tier in left if rota.gaps(team_id, now, now + LOOK_AHEAD, tier=tier)})
    for team_id in gapped:
        alarms.raise_alarm("rota_gap", subject=f"team:{team_id}")
    return gapped
