"""The daily check answered by the patient or their family (docs/architecture.md#beds): on the ward's tablet or a
phone, for a bed they choose, with the patient's name as they give it. A self-answer never counts as the patient
having been asked until ward staff confirm it (answers.counts_as_asked), so a visitor or a wrong bed cannot hide a
patient nobody asked. A "worse" answer, whoever gave it, alerts the nurse in charge at once and is offered the
Martha's Rule route: a call raised from it goes through the same intake as the family's form, and nothing that
limits answers or forms ever stops it."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    AnsweredBy,
    Bed,
    CallerRoute,
    Channel,
    CheckChannel,
    DailyCheckAnswer,
    User,
    Ward,
    WorryCategory,
)
from tracker.services.concerns.intake import Intake, Outcome, Source, raise_concern
from tracker.services.daily_check.alerts import alert_nurse_in_charge
from tracker.services.daily_check.answers import AnswerProblem, free_text_of, is_worse, local_day, scales
from tracker.services.daily_check.occupancy import MAX_NAME, open_occupancy
from tracker.services.records import audit
from tracker.services.text import TextProblem, clean_line

# One self-answer per bed a minute: a second is a double tap or someone pressing again, not a new answer. The
# refusal points to the urgent-review form, which this never limits.
SELF_REPEAT_WINDOW = timedelta(seconds=60)

CALLER_ROUTE = {AnsweredBy.PATIENT: CallerRoute.PATIENT, AnsweredBy.FAMILY: CallerRoute.FAMILY}
CHANNEL = {
    CheckChannel.TABLET: Channel.TABLET,
    CheckChannel.OWN_DEVICE: Channel.OWN_DEVICE,
    CheckChannel.STAFF_ASSISTED: Channel.STAFF_ASSISTED,
}


class TooSoon(AnswerProblem):
    """This bed was answered for a moment ago."""


def public_bed(ward_id: int, bed_id: int) -> Bed | None:
    """A bed in use on this ward, or None (another ward's, retired, unknown)."""
    return db.session.scalar(select(Bed).where(Bed.id == bed_id, Bed.ward_id == ward_id, Bed.retired_at.is_(None)))


def patient_name(raw: str | None) -> str:
    try:
        name = clean_line(raw, MAX_NAME)
    except TextProblem as problem:
        raise AnswerProblem(
            f"The patient's name must be {MAX_NAME} characters or fewer"
            if problem.kind == "too_long"
            else "The patient's name has a character we cannot save"
        ) from problem
    if not name:
        raise AnswerProblem("Give the patient's name")
    return name


def record_self(
    bed: Bed, who: AnsweredBy, channel: CheckChannel, name: str, feeling: str, compared: str, text: str | None
) -> DailyCheckAnswer:
    """Save an answer given by the patient or family for `bed` (one of public_bed's), with the bed's open
    occupancy if it has one. Refuses values off the scales and a second self-answer for the bed within a minute
    (TooSoon). A worse answer alerts the nurse in charge in the same transaction."""
    if who is AnsweredBy.STAFF or channel is CheckChannel.STAFF_ASSISTED:
        raise AnswerProblem("Only staff record an answer as staff")
    feeling_value, compared_value = scales(feeling, compared)
    free_text, given_name = free_text_of(text), patient_name(name)
    db.session.refresh(bed, with_for_update=True)
    now = utcnow()
    recent = db.session.scalar(
        select(DailyCheckAnswer.id).where(
            DailyCheckAnswer.bed_id == bed.id,
            DailyCheckAnswer.answered_by != AnsweredBy.STAFF,
            DailyCheckAnswer.answered_at > now - SELF_REPEAT_WINDOW,
        )
    )
    if recent is not None:
        raise TooSoon("An answer for this bed was sent a moment ago")
    occupancy = open_occupancy(bed.id)
    answer = DailyCheckAnswer(
        ward_id=bed.ward_id,
        bed_id=bed.id,
        occupancy_id=occupancy.id if occupancy is not None else None,
        local_day=local_day(now),
        answered_at=now,
        feeling=feeling_value,
        compared=compared_value,
        free_text=free_text,
        answered_by=who,
        channel=channel,
        patient_name_given=given_name,
        worse=is_worse(feeling_value, compared_value),
    )
    db.session.add(answer)
    db.session.flush()
    changes = {"bed_id": bed.id, "feeling": feeling_value.value, "compared": compared_value.value}
    changes |= {"worse": answer.worse, "answered_by": who.value, "channel": channel.value}
    audit.record(
        "daily_check_answered",
        audit.Actor.public(),
        object_type="daily_check_answer",
        object_id=answer.id,
        changes=changes,
    )
    if answer.worse:
        alert_nurse_in_charge(db.session.get_one(Ward, bed.ward_id), bed.label, audit.Actor.public())
    return answer


def confirm(user: User, answer: DailyCheckAnswer) -> None:
    """Ward staff vouch that the patient in the bed gave (or agrees with) this self-answer, so the bed counts as
    asked. An answer given for an empty bed takes the bed's patient now, if it has one. Confirmed twice: the first
    stands."""
    if answer.answered_by is AnsweredBy.STAFF:
        raise AnswerProblem("Staff answers need no confirming")
    if answer.confirmed_at is not None:
        return
    if answer.occupancy_id is None:
        occupancy = open_occupancy(answer.bed_id)
        if occupancy is None:
            raise AnswerProblem(f"{answer.bed.label} has nobody in it. Mark the bed as occupied first")
        answer.occupancy_id = occupancy.id
    answer.confirmed_at, answer.confirmed_by_id = utcnow(), user.id
    audit.record(
        "daily_check_confirmed",
        audit.Actor.user(user.id),
        object_type="daily_check_answer",
        object_id=answer.id,
        changes={"bed_id": answer.bed_id},
    )


def raise_call(answer: DailyCheckAnswer, actor: audit.Actor, locale: str = "en") -> Outcome:
    """Raise the Martha's Rule call a worse answer offered, pre-filled from it and linked to it, through the
    family form's own intake. Its limits never block it: no device or address is counted (an answer is limited
    per bed already), and the same answer asked twice gives the same call."""
    if not answer.worse:
        raise AnswerProblem("Only a worse answer offers an urgent review")
    route = CALLER_ROUTE.get(answer.answered_by, CallerRoute.STAFF)
    intake = Intake(
        ward_id=answer.ward_id,
        submission_id=f"daily-check-{answer.id}",
        caller_route=route,
        channel=CHANNEL[answer.channel],
        worry_categories=(WorryCategory.NOT_USUAL_SELF.value,),
        worry_details=answer.free_text or "",
        patient_name=answer.patient_name_given or _occupant_name(answer) or "",
        bed=answer.bed.label,
        locale=locale or current_app.config["BABEL_DEFAULT_LOCALE"],
    )
    outcome = raise_concern(intake, Source(), actor)
    if answer.concern_id is None:
        answer.concern_id = outcome.concern_id
        audit.record(
            "daily_check_call_raised",
            actor,
            object_type="daily_check_answer",
            object_id=answer.id,
            concern_id=outcome.concern_id,
            changes={"bed_id": answer.bed_id},
        )
    return outcome


def _occupant_name(answer: DailyCheckAnswer) -> str | None:
    occupancy = open_occupancy(answer.bed_id)
    return occupancy.patient_name if occupancy is not None and occupancy.id == answer.occupancy_id else None
