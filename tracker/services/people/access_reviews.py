"""That the access review was done (docs/architecture.md#set-up): a manager (their site) or an administrator (a site
or the whole trust) records it once a month for each scope, audited; whether this month's is due; the CSV's download
audited; and the trust's number of days without a sign-in that flags an account as unused. What the review shows is
services/people/access_review.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError

from tracker.clock import local
from tracker.extensions import db
from tracker.models import AccessReview, Settings, User
from tracker.problems import Problem
from tracker.services.people.access_review import ReviewScope, Summary, accounts
from tracker.services.records import audit
from tracker.services.setup.settings import forget_settings

MIN_UNUSED_DAYS, MAX_UNUSED_DAYS = 7, 365


class AccessReviewProblem(Problem):
    """A review that cannot be recorded, or a setting that cannot be saved; the message says why."""


def this_month(now: datetime, tz: str) -> date:
    """The first day of the trust's current month (a review done late on the 31st in its own time counts for that
    month, wherever UTC is)."""
    return local(now, tz).date().replace(day=1)


@dataclass(frozen=True)
class ReviewState:
    """Where a scope's reviews stand this month."""

    month: date
    done: AccessReview | None  # this month's review of exactly this scope
    covered_by: AccessReview | None  # this month's review that covers it: its own, or the whole trust's
    last: AccessReview | None  # the latest review that covers it, in any month

    @property
    def due(self) -> bool:
        return self.covered_by is None


def _covering(review: ReviewScope) -> ColumnElement[bool]:
    """Reviews that cover the scope: a site's own and the whole trust's; the whole trust only its own."""
    if review.site_id is None:
        return AccessReview.site_id.is_(None)
    return or_(AccessReview.site_id == review.site_id, AccessReview.site_id.is_(None))


def _own(review: ReviewScope) -> ColumnElement[bool]:
    return AccessReview.site_id.is_(None) if review.site_id is None else AccessReview.site_id == review.site_id


def state(review: ReviewScope, month: date) -> ReviewState:
    latest = (
        select(AccessReview)
        .order_by(AccessReview.month.desc(), AccessReview.reviewed_at.desc(), AccessReview.id.desc())
        .limit(1)
    )
    return ReviewState(
        month=month,
        done=db.session.scalar(latest.where(_own(review), AccessReview.month == month)),
        covered_by=db.session.scalar(latest.where(_covering(review), AccessReview.month == month)),
        last=db.session.scalar(latest.where(_covering(review))),
    )


def _already(review: ReviewScope, month: date, tz: str) -> AccessReviewProblem:
    done = db.session.scalar(select(AccessReview).where(_own(review), AccessReview.month == month))
    by = f" by {done.reviewed_by.display_name} on {local(done.reviewed_at, tz):%-d %B at %H:%M}" if done else ""
    return AccessReviewProblem(
        f"The review of {review.name} for {month:%B %Y} was already recorded{by}. It is recorded once a month."
    )


def record(user: User, review: ReviewScope, *, now: datetime, tz: str, days: int) -> AccessReview:
    """Record this month's review of the scope as done by `user` (who must have it in reach: the caller found the
    scope with access_review.scope_for). Refused, with nothing saved, when it has been recorded already."""
    month = this_month(now, tz)
    if db.session.scalar(select(AccessReview.id).where(_own(review), AccessReview.month == month)):
        raise _already(review, month, tz)
    summary = Summary.of(accounts(review, now, days))
    row = AccessReview(
        month=month,
        site_id=review.site_id,
        reviewed_by_id=user.id,
        reviewed_at=now,
        accounts=summary.accounts,
        unused=summary.unused,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        # Another manager's press of the same button won the race.
        raise _already(review, month, tz) from None
    audit.record(
        "access_review_recorded",
        audit.Actor.user(user.id),
        object_type="access_review",
        object_id=row.id,
        changes={
            "month": f"{month:%Y-%m}",
            "site_id": review.site_id,
            "accounts": summary.accounts,
            "active": summary.active,
            "unused": summary.unused,
            "no_authenticator": summary.no_authenticator,
            "unused_days": days,
        },
    )
    return row


def record_download(user: User, review: ReviewScope, rows: int) -> None:
    """The review's CSV holds staff names and email addresses: each download is audited (never its contents)."""
    audit.record(
        "access_review_downloaded",
        audit.Actor.user(user.id),
        changes={"site_id": review.site_id, "accounts": rows},
    )


def save_unused_days(actor: audit.Actor, days: int) -> None:
    """How many days without a sign-in flag an active account as unused (`setup-trust --access-review-unused-days`)."""
    if not MIN_UNUSED_DAYS <= days <= MAX_UNUSED_DAYS:
        raise AccessReviewProblem(
            f"The days without a sign-in that flag an account must be between {MIN_UNUSED_DAYS} and {MAX_UNUSED_DAYS}"
        )
    settings = db.session.get(Settings, 1)
    if settings is None:
        raise AccessReviewProblem("Set up the trust first (setup-trust with its name and emergency instruction)")
    before = settings.access_review_unused_days
    settings.access_review_unused_days = days
    db.session.flush()
    forget_settings()
    if before != days:
        audit.record(
            "access_review_days_saved",
            actor,
            object_type="settings",
            object_id=1,
            changes={"from": before, "to": days},
        )
