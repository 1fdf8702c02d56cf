"""Calls that may be about the same patient (docs/architecture.md#concerns-and-their-clocks): two relatives, or a
relative and a nurse, raising calls about one patient on one ward. Each call keeps paging on its own: a match
by name or bed can be wrong, so it is only shown to the clinician, on both calls, never acted on by itself."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import OPEN_STATUSES, CallerRoute, Concern
from tracker.services.text import comparable
from tracker.services.words import CALLER_ROUTE_WORDS


class OtherCall(NamedTuple):
    reference: str
    raised_at: datetime
    raised_by: str  # the route, in words
    matched_on: str  # "name" or "bed"


def other_open_calls(concern: Concern) -> list[OtherCall]:
    """Open calls on the same ward whose patient's name or bed matches this call's (case, spacing and
    punctuation ignored, as for identical repeats), oldest first; calls already linked to it left out."""
    if concern.status not in OPEN_STATUSES or concern.ward_id is None:
        return []
    name, bed = comparable(concern.patient_name), comparable(concern.bed)
    if not name and not bed:
        return []
    found: list[OtherCall] = []
    for other in db.session.execute(
        select(Concern.reference, Concern.raised_at, Concern.caller_route, Concern.patient_name, Concern.bed)
        .where(
            Concern.ward_id == concern.ward_id,
            Concern.id != concern.id,
            Concern.status.in_(OPEN_STATUSES),
            Concern.linked_to_id.is_distinct_from(concern.id),  # already linked to this one
        )
        .order_by(Concern.raised_at)
    ):
        if name and comparable(other.patient_name) == name:
            found.append(OtherCall(other.reference, other.raised_at, _by(other.caller_route), "name"))
        elif bed and comparable(other.bed) == bed:
            found.append(OtherCall(other.reference, other.raised_at, _by(other.caller_route), "bed"))
    return found


def _by(route: CallerRoute) -> str:
    return CALLER_ROUTE_WORDS[route.value].lower()
