"""Each site's implementation status for a month (docs/facts.md#nhs-englands-monthly-return): whether its patient and
family route and its staff route were live, as a manager recorded it. No call can tell this, so the
return shows what was recorded, or says that nothing was."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    FamilyRouteStatus,
    SiteImplementation,
    StaffRouteStatus,
    User,
)
from tracker.services.records import audit


def implementation_status(site_id: int, month: date) -> dict | None:
    row = db.session.execute(
        select(
            SiteImplementation.family_route,
            SiteImplementation.staff_route,
            SiteImplementation.recorded_at,
            User.display_name,
        )
        .outerjoin(User, User.id == SiteImplementation.recorded_by_id)
        .where(SiteImplementation.site_id == site_id, SiteImplementation.month == month.replace(day=1))
    ).first()
    if row is None:
        return None
    family, staff, recorded_at, name = row
    return {
        "family_route": FamilyRouteStatus(family).value,
        "staff_route": StaffRouteStatus(staff).value,
        "recorded_at": recorded_at,
        "recorded_by": name,
    }


def record_implementation(
    user: User, site_id: int, month: date, family_route: FamilyRouteStatus, staff_route: StaffRouteStatus
) -> SiteImplementation:
    """Record (or correct) a site's implementation status for a month, audited with the old and
    new values. The caller checks the site is the user's."""
    first = month.replace(day=1)
    row = db.session.scalar(
        select(SiteImplementation).where(SiteImplementation.site_id == site_id, SiteImplementation.month == first)
    )
    before = None
    if row is None:
        row = SiteImplementation(site_id=site_id, month=first)
        db.session.add(row)
    else:
        before = {"family_route": row.family_route.value, "staff_route": row.staff_route.value}
    row.family_route, row.staff_route = family_route, staff_route
    row.recorded_by_id, row.recorded_at = user.id, utcnow()
    db.session.flush()
    changes = {
        "site_id": site_id,
        "month": first.isoformat(),
        "family_route": family_route.value,
        "staff_route": staff_route.value,
    }
    if before:
        changes.update({f"previous_{name}": value for name, value in before.items()})
    audit.record(
        "implementation_status_recorded",
        audit.Actor.user(user.id),
        object_type="site_implementation",
        object_id=row.id,
        changes=changes,
    )
    return row
