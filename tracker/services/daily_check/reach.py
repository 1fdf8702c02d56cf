"""Which ward's daily check a person sees (services/scope.py decides; docs/architecture.md#beds): ward staff
their own ward, outreach their teams' wards, read only."""

from __future__ import annotations

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import User, Ward
from tracker.services.scope import Reach, reach, wards_to_see_checks


def ward_to_see(user: User, code: str | None) -> Ward | None:
    """The ward whose daily check the page shows: ward staff's own (no code needed); otherwise the ward with
    this code if the person may see it. None when there is no such ward in reach."""
    if reach(user) is Reach.WARD and not code:
        return user.ward
    if not code:
        return None
    return db.session.scalar(select(Ward).where(Ward.code == code.strip().lower(), wards_to_see_checks(user)))


def wards_to_see(user: User) -> list[Ward]:
    """The wards in use whose daily check this person may open, by name (outreach choose one)."""
    return list(
        db.session.scalars(
            select(Ward).where(wards_to_see_checks(user), Ward.retired_at.is_(None)).order_by(Ward.name, Ward.code)
        )
    )
