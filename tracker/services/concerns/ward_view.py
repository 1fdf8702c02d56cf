"""The ward's own view of its calls (docs/architecture.md#the-wards-calls): every open call of the ward and those
raised in the last week, how long each waited for the outreach team, one call's status, and the version the list's
refresh compares. Ward staff see who has a call and when each step happened: never what the caller wrote, the team's
notes, the coding or a caller's number (the same as the list has always shown)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import joinedload

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import OPEN_STATUSES, Concern, ConcernStatus, User

WARD_PAGE_DAYS = 7  # closed calls stay on the ward's page this long


def _on_the_wards_page(user: User) -> list[ColumnElement[bool]]:
    since = utcnow() - timedelta(days=WARD_PAGE_DAYS)
    return [Concern.ward_id == (user.ward_id or -1), (Concern.raised_at >= since) | Concern.status.in_(OPEN_STATUSES)]


def ward_calls(user: User) -> list[Concern]:
    """The ward's own calls for its page, newest first: every open one, and those raised in the last week."""
    return list(
        db.session.scalars(
            select(Concern)
            .where(*_on_the_wards_page(user))
            .options(joinedload(Concern.claimed_by), joinedload(Concern.team))
            .order_by(Concern.raised_at.desc())
        )
    )


def ward_call(user: User, reference: str) -> Concern | None:
    """One call on the ward's page (its status page), or None: a call of another ward, or one that has left the
    page, is not found, so the status page shows nothing the list would not."""
    return db.session.scalar(
        select(Concern)
        .where(Concern.reference == reference, *_on_the_wards_page(user))
        .options(joinedload(Concern.claimed_by), joinedload(Concern.team))
    )


def ward_version(user: User) -> str:
    """Changes whenever the ward's list would show something different: every change to a call stamps its
    `updated_at` (one index seek on the ward's latest), and the hour moves calls a week old off the page."""
    stamp = db.session.scalar(select(func.max(Concern.updated_at)).where(Concern.ward_id == (user.ward_id or -1)))
    return f"w{user.id}-{user.ward_id or 0}-{utcnow():%Y%m%d%H}-{stamp.isoformat() if stamp else '-'}"


@dataclass(frozen=True)
class Wait:
    """How long a call waited for the team, in words. While nobody has claimed it, `since` and `target_minutes` are
    set and the page counts on from `since` against the team's target for a claim (static/app/ages.mjs)."""

    words: str
    since: datetime | None = None
    target_minutes: int | None = None


def duration_words(start: datetime, end: datetime) -> str:
    """ "4 min", "1 h 5 min" (the queue's way of saying an age), or "less than a minute"."""
    minutes = int((end - start).total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    return (f"{minutes // 60} h " if minutes >= 60 else "") + f"{minutes % 60} min"


def _after(words: str, raised: datetime, at: datetime | None) -> Wait:
    return Wait(words if at is None else f"{words} after {duration_words(raised, at)}")


def wait(concern: Concern) -> Wait:
    """The call's wait for the team: "Waiting" (counted on by the page) until someone claims it, then how long the
    claim took, and once reviewed how long the review took; both from when the call was raised (the first claim and
    review stand, as in the reports)."""
    raised = concern.raised_at
    match concern.status:
        case ConcernStatus.NEW:
            return Wait("Waiting", since=raised, target_minutes=concern.team.ack_target_minutes)
        case ConcernStatus.ACKNOWLEDGED:
            return _after("Claimed", raised, concern.acknowledged_at)
        case ConcernStatus.REVIEWED:
            return _after("Reviewed", raised, concern.reviewed_at)
        case ConcernStatus.CLOSED if concern.reviewed_at is not None:
            return _after("Reviewed", raised, concern.reviewed_at)
        case ConcernStatus.CLOSED:
            return _after("Closed", raised, concern.closed_at)
    return Wait("Cancelled")


def times(concern: Concern) -> list[tuple[str, datetime]]:
    """When each step of the call happened, oldest first, for its status page (steps not yet taken left out)."""
    steps = [
        ("Raised", concern.raised_at),
        ("Outreach team alerted", concern.first_alert_sent_at),
        ("Claimed", concern.acknowledged_at),
        ("Reviewed", concern.reviewed_at),
        ("Reopened", concern.reopened_at),
        ("Closed", concern.closed_at),
    ]
    return sorted(((label, at) for label, at in steps if at is not None), key=lambda step: step[1])
