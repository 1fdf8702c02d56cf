"""The "sign-on outage" switch (docs/architecture.md#sign-on). When the trust's provider is down, nobody whose
account is linked could sign in, and at night that stops every clinician claiming calls. A break-glass
administrator (whose own local password still works) turns local sign-in back on for everyone for a set time,
at most 12 hours; it ends by itself. Turning it on and off is audited, and the queue shows a banner while it
is on."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Role, SignOnOutage, User
from tracker.problems import Problem
from tracker.services.records import audit

MAX_HOURS = 12


class OutageProblem(Problem):
    pass


def current() -> SignOnOutage | None:
    """The outage switch that is on now, if any."""
    now = utcnow()
    return db.session.scalar(
        select(SignOnOutage)
        .where(SignOnOutage.ended_at.is_(None), SignOnOutage.ends_at > now, SignOnOutage.started_at <= now)
        .order_by(SignOnOutage.ends_at.desc())
        .limit(1)
    )


def may_switch(user: User) -> bool:
    """Only an active administrator marked break-glass may turn the switch on or off."""
    return user.active and user.role is Role.ADMIN and user.break_glass


def start(user: User, hours: int) -> SignOnOutage:
    """Turn local sign-in on for `hours` (1 to 12) from now. One already on is ended and replaced, so the
    time can be changed either way. The caller commits."""
    if not may_switch(user):
        raise OutageProblem("Only a break-glass administrator can turn on local sign-in.")
    if not isinstance(hours, int) or not 1 <= hours <= MAX_HOURS:
        raise OutageProblem(f"Choose how many hours local sign-in stays on: 1 to {MAX_HOURS}.")
    now = utcnow()
    replaced = current()
    if replaced is not None:
        replaced.ended_at, replaced.ended_by_id = now, user.id
    outage = SignOnOutage(started_at=now, ends_at=now + timedelta(hours=hours), started_by_id=user.id)
    db.session.add(outage)
    db.session.flush()
    audit.record(
        "sign_on_outage_started",
        audit.Actor.user(user.id),
        object_type="sign_on_outage",
        object_id=outage.id,
        changes={"hours": hours, "replaced": replaced.id if replaced is not None else None},
    )
    return outage


def end(user: User) -> bool:
    """Turn local sign-in off again before its time; False when it was not on. The caller commits."""
    if not may_switch(user):
        raise OutageProblem("Only a break-glass administrator can turn off local sign-in.")
    outage = current()
    if outage is None:
        return False
    outage.ended_at, outage.ended_by_id = utcnow(), user.id
    audit.record("sign_on_outage_ended", audit.Actor.user(user.id), object_type="sign_on_outage", object_id=outage.id)
    return True
