"""A call's outcome coding at close (docs/architecture.md#concerns-and-their-clocks): what the clinician answers, the
rules that refuse a coding that cannot be right, and what applying it sets on the call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tracker.clock import utcnow
from tracker.models import (
    AgeGroup,
    CallerUpdateMethod,
    ChangeInCare,
    Concern,
    ConcernStatus,
    ConcernType,
    DeteriorationOutcome,
    LocalReason,
)
from tracker.problems import FieldProblem
from tracker.services.concerns.triage_problem import TriageProblem
from tracker.services.messaging.notifications import cancel_waiting_family_texts


class CodingProblem(FieldProblem, TriageProblem):
    """A coding refused at one question: the close form is shown again with every answer kept, the problem
    beside that question (never a redirect that throws the coding away)."""


@dataclass(frozen=True)
class Coding:
    """The outcome coding of docs/architecture.md#concerns-and-their-clocks, checked by `check()`."""

    concern_type: ConcernType
    clinical_review_needed: bool
    deterioration_outcome: DeteriorationOutcome | None = None
    change_in_care: tuple[ChangeInCare, ...] = ()
    caller_update_method: CallerUpdateMethod | None = None
    caller_updated_at: datetime | None = None
    age_group: AgeGroup | None = None  # asked when no date of birth is known (the children's retention rule)
    local_reason: LocalReason | None = None  # the patient died or was discharged

    def check(self, concern: Concern) -> None:
        if self.concern_type is ConcernType.ACUTE_DETERIORATION:
            if not self.clinical_review_needed:
                raise CodingProblem("clinical_review_needed", "An acute deterioration always needs a clinical review")
            if self.deterioration_outcome is None:
                raise CodingProblem("deterioration_outcome", "Choose what happened for this acute deterioration")
        elif self.deterioration_outcome is not None:
            raise CodingProblem("deterioration_outcome", "Only an acute deterioration has an escalation outcome")
        if (self.deterioration_outcome is DeteriorationOutcome.CHANGE_IN_CARE) != bool(self.change_in_care):
            raise CodingProblem(
                "change_in_care", "Choose what changed in the patient's care (and only for a change in care)"
            )
        if self.caller_update_method is None:
            raise CodingProblem(
                "caller_update_method", "Say how the caller was updated, or that they could not be contacted"
            )
        if self.caller_update_method is not CallerUpdateMethod.COULD_NOT_CONTACT:
            when = self.caller_updated_at
            if when is None or when > utcnow() + timedelta(minutes=1) or when < concern.raised_at:
                raise CodingProblem(
                    "caller_updated_time",
                    "The time the caller was updated must be after the call was raised, and not in the future",
                )
        if concern.status is ConcernStatus.REVIEWED and not self.clinical_review_needed:
            # A recorded review always counts as needed; a coding that says otherwise would hide it.
            raise FieldProblem(
                "clinical_review_needed",
                "A clinical review was recorded for this call, so it needed one: answer yes",
            )


def apply_coding(concern: Concern, coding: Coding) -> None:
    concern.next_review_nudge_at = None
    concern.concern_type = coding.concern_type
    concern.clinical_review_needed = coding.clinical_review_needed
    concern.deterioration_outcome = coding.deterioration_outcome
    concern.change_in_care = [c.value for c in coding.change_in_care]
    concern.caller_update_method = coding.caller_update_method
    if coding.age_group is not None:
        concern.age_group = coding.age_group
    if coding.local_reason is not None:
        record_local_reason(concern, coding.local_reason)
    # Only this record sets "caller updated"; a reopened call keeps its first episode's.
    if coding.caller_update_method is not CallerUpdateMethod.COULD_NOT_CONTACT and concern.caller_updated_at is None:
        concern.caller_updated_at = coding.caller_updated_at
    concern.closed_at = utcnow()


def coding_changes(coding: Coding) -> dict:
    return {
        "local_reason": coding.local_reason.value if coding.local_reason else None,
        "concern_type": coding.concern_type.value,
        "clinical_review_needed": coding.clinical_review_needed,
        "deterioration_outcome": coding.deterioration_outcome.value if coding.deterioration_outcome else None,
        "change_in_care": [c.value for c in coding.change_in_care],
        "caller_update_method": coding.caller_update_method.value if coding.caller_update_method else None,
    }


def record_local_reason(concern: Concern, reason: LocalReason) -> None:
    """The patient died or left hospital: nothing more is texted to the caller; what waits is cancelled."""
    concern.local_reason = reason
    cancel_waiting_family_texts(reason.value, concern_id=concern.id)
