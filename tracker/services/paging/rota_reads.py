"""What the on-call pages read (docs/architecture.md#paging): the teams in a person's reach, a team's members, its
active rota patterns and its shifts still to come. Reads only: changes to the rota are in `rota.py`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import RotaPattern, Shift, Team, User
from tracker.services import scope


def teams_in_reach(user: User) -> list[Team]:
    """The active teams whose rotas the person may see, by name."""
    return list(db.session.scalars(select(Team).where(Team.active.is_(True), scope.teams(user)).order_by(Team.name)))


def team_in_reach(user: User, code: str) -> Team | None:
    return db.session.scalar(
        select(Team).where(Team.active.is_(True), scope.teams(user), Team.code == code[:32].lower())
    )


def members(team_id: int) -> list[User]:
    """The team's active members, by name: who may be put on its rota."""
    return list(
        db.session.scalars(
            select(User).where(User.active.is_(True), User.teams.any(id=team_id)).order_by(User.display_name)
        )
    )


def people(user_ids: Iterable[int]) -> list[User]:
    return list(db.session.scalars(select(User).where(User.id.in_(set(user_ids) or {-1}))))


def active_patterns(team_id: int) -> list[RotaPattern]:
    return list(
        db.session.scalars(
            select(RotaPattern)
            .where(RotaPattern.team_id == team_id, RotaPattern.active.is_(True))
            .order_by(RotaPattern.tier, RotaPattern.id)
        )
    )


def active_pattern(team_id: int, pattern_id: int) -> RotaPattern | None:
    return db.session.scalar(
        select(RotaPattern).where(
            RotaPattern.id == pattern_id, RotaPattern.team_id == team_id, RotaPattern.active.is_(True)
        )
    )


def shifts_to_come(team_id: int, now: datetime) -> list[Shift]:
    """The team's shifts not cancelled and not yet over, soonest first."""
    return list(
        db.session.scalars(
            select(Shift)
            .where(Shift.team_id == team_id, Shift.cancelled_at.is_(None), Shift.ends_at > now)
            .order_by(Shift.starts_at)
        )
    )


def open_shift(team_id: int, shift_id: int) -> Shift | None:
    return db.session.scalar(
        select(Shift).where(Shift.id == shift_id, Shift.team_id == team_id, Shift.cancelled_at.is_(None))
    )
