"""The family form's optional second page (docs/architecture.md#a-concerns-path). The first page asks only what the
team needs to act, and sending it raises and pages the call; afterwards the family may add whether they spoke to
the ward, their language, interpreter and communication needs, and the patient's date of birth.

The edit is a capability of the browser session that sent the form (its confirmation, kept in that session),
usable once, within 30 minutes, and it fills only what is still empty: it can never overwrite what the family or a
clinician already recorded. It is audited. A late "interpreter needed" is flagged on the queue and the call, since
whoever has the call may already be on the way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Concern, ConcernStatus, Confirmation, SpokeToWard
from tracker.problems import Problem
from tracker.services.records import audit

WINDOW = timedelta(minutes=30)
CLOSED = (ConcernStatus.CLOSED, ConcernStatus.CANCELLED)


@dataclass(frozen=True)
class MoreDetails:
    """The second page's answers (every one optional)."""

    spoke_to_ward: SpokeToWard | None = None
    ward_response: str = ""
    preferred_language: str = ""
    interpreter_needed: bool = False
    communication_needs: str = ""
    patient_dob: date | None = None


class DetailsClosed(Problem):
    """The second page can no longer be used: said in words for the family."""


def open_for(confirmation: Confirmation | None) -> bool:
    """Whether this confirmation's one chance to add details is still open."""
    return (
        confirmation is not None
        and confirmation.details_added_at is None
        and utcnow() - confirmation.created_at <= WINDOW
    )


def add(confirmation: Confirmation, details: MoreDetails) -> list[str]:
    """Fill the call's empty fields from the second page (in the caller's transaction); returns what was filled."""
    concern = db.session.get(Concern, confirmation.concern_id)
    if not open_for(confirmation) or concern is None or concern.purged_at is not None:
        raise DetailsClosed(
            "You can no longer add details here. If there is something the team should know, phone them."
        )
    now = utcnow()
    filled = []
    if details.spoke_to_ward is not None and concern.spoke_to_ward is None:
        concern.spoke_to_ward = details.spoke_to_ward
        filled.append("spoke_to_ward")
    if details.ward_response and not concern.ward_response and concern.spoke_to_ward is SpokeToWard.YES:
        concern.ward_response = details.ward_response
        filled.append("ward_response")
    if details.preferred_language and not concern.preferred_language:
        concern.preferred_language = details.preferred_language
        filled.append("preferred_language")
    if details.interpreter_needed and not concern.interpreter_needed:
        concern.interpreter_needed = True
        if concern.status not in CLOSED:
            concern.interpreter_added_at = now
        filled.append("interpreter_needed")
    if details.communication_needs and not concern.communication_needs:
        concern.communication_needs = details.communication_needs
        filled.append("communication_needs")
    if details.patient_dob is not None and concern.patient_dob is None:
        concern.patient_dob = details.patient_dob
        filled.append("patient_dob")
    confirmation.details_added_at = now
    if filled:
        audit.record(
            "family_added_details",
            audit.Actor.public(),
            object_type="concern",
            object_id=concern.id,
            concern_id=concern.id,
            changes={"fields": filled},
        )
    return filled
