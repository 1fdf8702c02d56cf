"""Figures revised after a month's return was read (docs/architecture.md#reports): when a change corrects how a
figure is counted or the clock it is read from, its migration keeps every month's figures as they stood
(`ReturnRevision`); the return page then says which of the month's figures changed, when, and from what to
what. Also the calls whose coding contradicts a recorded review, for the manager to check (they are
never changed silently)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import Concern, ConcernStatus, ReturnRevision
from tracker.services.reports.counting import _calls
from tracker.services.reports.periods import Period

# The figures a revision may hold, and what the return page calls them.
REVISED_FIGURES = {
    "clinical_review": "Calls that needed a clinical review",
    "caller_updated": "Calls whose caller a clinician recorded as told the outcome",
    "first_alert": "Calls with an alert sent to a clinician",
}


@dataclass(frozen=True)
class Change:
    label: str
    was: int
    now: int


@dataclass(frozen=True)
class Revision:
    taken_at: datetime
    reason: str
    changes: list[Change]


def current_figures(site_id: int, period: Period, review_needed: int) -> dict[str, int]:
    """The revisable figures as they are counted now (`review_needed` from the return's own tally)."""
    caller_updated, first_alert = db.session.execute(
        select(func.count(Concern.caller_updated_at), func.count(Concern.first_alert_sent_at)).where(
            *_calls(site_id, period.start, period.end)
        )
    ).one()
    return {"clinical_review": review_needed, "caller_updated": caller_updated, "first_alert": first_alert}


def revisions(site_id: int, period: Period, now_figures: dict[str, int]) -> list[Revision]:
    """Each kept snapshot of the month whose figures differ from today's, oldest first; a snapshot
    that matches today's figures is not a revision and is not shown."""
    found: list[Revision] = []
    for kept in db.session.scalars(
        select(ReturnRevision)
        .where(ReturnRevision.site_id == site_id, ReturnRevision.month == period.start.replace(day=1))
        .order_by(ReturnRevision.taken_at, ReturnRevision.id)
    ):
        changes = [
            Change(label, int(kept.figures[key]), now_figures[key])
            for key, label in REVISED_FIGURES.items()
            if key in kept.figures and key in now_figures and int(kept.figures[key]) != now_figures[key]
        ]
        if changes:
            found.append(Revision(kept.taken_at, kept.reason, changes))
    return found


def coded_against_review(site_id: int, period: Period) -> list[str]:
    """References of the month's closed calls with a recorded review but coded "no clinical review
    needed" (closed before such a coding was refused): counted as needing one; the manager checks them."""
    return list(
        db.session.scalars(
            select(Concern.reference)
            .where(
                *_calls(site_id, period.start, period.end),
                Concern.status == ConcernStatus.CLOSED,
                Concern.reviewed_at.is_not(None),
                Concern.clinical_review_needed.is_(False),
            )
            .order_by(Concern.raised_at)
        )
    )
