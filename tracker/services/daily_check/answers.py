"""The daily check's answers (docs/architecture.md#beds): a nurse records, at the bedside, how the patient in a
bed feels today and how that compares with yesterday; a "worse" answer waits at the top of the ward's page until
someone marks it seen, and then acted on (both audited). The day is the trust's local day, so midnight and the
clock changes fall where the ward's do. An answer belongs to the bed's occupancy, so a patient admitted after
another's discharge is not asked until someone asks them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from tracker.clock import local, utcnow
from tracker.extensions import db
from tracker.models import (
    AnsweredBy,
    Bed,
    BedOccupancy,
    CheckChannel,
    Compared,
    DailyCheckAnswer,
    Feeling,
    User,
    Ward,
)
from tracker.problems import Problem
from tracker.services.daily_check.alerts import alert_nurse_in_charge
from tracker.services.daily_check.occupancy import open_occupancies, open_occupancy
from tracker.services.records import audit
from tracker.services.scope import ward_to_check
from tracker.services.setup.beds import beds_in_use
from tracker.services.setup.settings import current_settings
from tracker.services.text import TextProblem, clean_block

MAX_TEXT = 1000
# Two staff answers for one bed this close together are a double tap or two nurses at once, not two askings.
REPEAT_WINDOW = timedelta(seconds=60)


class AnswerProblem(Problem):
    """An answer that cannot be saved or marked; the message says why in plain English."""


def local_day(moment: datetime) -> date:
    """The trust's local day a moment falls on (Europe/London: midnight moves with the clocks)."""
    return local(moment, current_settings().timezone).date()


def is_worse(feeling: Feeling, compared: Compared) -> bool:
    return compared is Compared.WORSE or feeling is Feeling.VERY_BAD


def record_by_staff(user: User, bed: Bed, feeling: str, compared: str, text: str | None = None) -> DailyCheckAnswer:
    """Save a nurse's answer for the patient in `bed` (one of occupancy.ward_bed's), recorded at the bedside.
    Refuses a bed nobody occupies, values off the scales, and a second staff answer for the bed within a minute
    (each refusal says so; nothing is dropped silently)."""
    feeling_value, compared_value = scales(feeling, compared)
    free_text = free_text_of(text)
    db.session.refresh(bed, with_for_update=True)  # two nurses saving one bed at once: the second sees the first
    occupancy = open_occupancy(bed.id)
    if occupancy is None:
        raise AnswerProblem(f"{bed.label} has nobody in it. Mark the bed as occupied first")
    now = utcnow()
    recent = db.session.scalar(
        select(DailyCheckAnswer.id).where(
            DailyCheckAnswer.bed_id == bed.id,
            DailyCheckAnswer.answered_by == AnsweredBy.STAFF,
            DailyCheckAnswer.answered_at > now - REPEAT_WINDOW,
        )
    )
    if recent is not None:
        raise AnswerProblem(f"This bed's answer was saved a moment ago ({bed.label}). Check it before asking again")
    answer = DailyCheckAnswer(
        ward_id=bed.ward_id,
        bed_id=bed.id,
        occupancy_id=occupancy.id,
        local_day=local_day(now),
        answered_at=now,
        feeling=feeling_value,
        compared=compared_value,
        free_text=free_text,
        answered_by=AnsweredBy.STAFF,
        channel=CheckChannel.STAFF_ASSISTED,
        recorded_by_id=user.id,
        worse=is_worse(feeling_value, compared_value),
    )
    db.session.add(answer)
    db.session.flush()
    changes = {"bed_id": bed.id, "feeling": feeling_value.value, "compared": compared_value.value}
    _record("daily_check_recorded", user, answer, {**changes, "worse": answer.worse})
    if answer.worse:  # the nurse who asked may not be the one in charge (services/daily_check/alerts.py)
        alert_nurse_in_charge(db.session.get_one(Ward, bed.ward_id), bed.label, audit.Actor.user(user.id))
    return answer


def scales(feeling: str, compared: str) -> tuple[Feeling, Compared]:
    try:
        feeling_value = Feeling(feeling)
    except ValueError:
        raise AnswerProblem("Choose how the patient is feeling today") from None
    try:
        compared_value = Compared(compared)
    except ValueError:
        raise AnswerProblem("Choose how the patient feels compared with yesterday") from None
    return feeling_value, compared_value


def free_text_of(text: str | None) -> str | None:
    try:
        return clean_block(text, MAX_TEXT) or None
    except TextProblem as problem:
        raise AnswerProblem(
            f"What the patient said must be {MAX_TEXT} characters or fewer"
            if problem.kind == "too_long"
            else "What the patient said has a character we cannot save. Remove it and try again"
        ) from problem


def ward_answer(user: User, answer_id: int) -> DailyCheckAnswer | None:
    """An answer of the ward whose daily check this person records, or None."""
    ward_id = ward_to_check(user)
    if ward_id is None:
        return None
    return db.session.scalar(
        select(DailyCheckAnswer).where(DailyCheckAnswer.id == answer_id, DailyCheckAnswer.ward_id == ward_id)
    )


def mark_seen(user: User, answer: DailyCheckAnswer) -> None:
    """Someone on the ward has seen this "worse" answer; it leaves the top of the page. Seen twice: the first stands."""
    if not answer.worse:
        raise AnswerProblem("Only a worse answer needs marking as seen")
    if answer.seen_at is None:
        answer.seen_at, answer.seen_by_id = utcnow(), user.id
        _record("daily_check_seen", user, answer, {"bed_id": answer.bed_id})


def mark_acted_on(user: User, answer: DailyCheckAnswer) -> None:
    """Someone has acted on this "worse" answer (which also makes it seen). Acted on twice: the first stands."""
    if not answer.worse:
        raise AnswerProblem("Only a worse answer needs marking as acted on")
    mark_seen(user, answer)
    if answer.acted_on_at is None:
        answer.acted_on_at, answer.acted_on_by_id = utcnow(), user.id
        _record("daily_check_acted_on", user, answer, {"bed_id": answer.bed_id})


@dataclass(frozen=True)
class BedToday:
    """One bed in use on the ward's page today: its patient (if occupied), their latest answer today, and whether
    they count as asked (a staff-recorded or staff-confirmed answer today for this occupancy)."""

    bed: Bed
    occupancy: BedOccupancy | None
    latest: DailyCheckAnswer | None
    asked: bool


@dataclass(frozen=True)
class WardToday:
    day: date
    beds: list[BedToday]
    worse_unseen: list[DailyCheckAnswer]
    worse_open: list[DailyCheckAnswer]  # not yet acted on: the unseen ones and those seen but not acted on
    unconfirmed: list[DailyCheckAnswer]  # today's answers by patients or families that no one on the ward confirmed

    @property
    def not_asked(self) -> list[BedToday]:
        return [row for row in self.beds if row.occupancy is not None and not row.asked]


def counts_as_asked(answer: DailyCheckAnswer) -> bool:
    """Only staff vouch that the patient in the bed was asked: a self-answer counts once staff confirm it."""
    return answer.answered_by is AnsweredBy.STAFF or answer.confirmed_at is not None


def ward_today(ward_id: int) -> WardToday:
    """The ward's beds in use today (the trust's local day), each with its occupant's latest answer today and
    whether they were asked, and the ward's "worse" answers nobody has marked seen, or acted on (any day, oldest
    first: one stays at the top of the page until someone acts on it)."""
    day = local_day(utcnow())
    beds = beds_in_use(ward_id)
    occupied = open_occupancies([bed.id for bed in beds])
    answers = db.session.scalars(
        select(DailyCheckAnswer)
        .where(DailyCheckAnswer.ward_id == ward_id, DailyCheckAnswer.local_day == day)
        .order_by(DailyCheckAnswer.answered_at, DailyCheckAnswer.id)
    ).all()
    rows = []
    for bed in beds:
        occupancy = occupied.get(bed.id)
        theirs = [a for a in answers if occupancy is not None and a.occupancy_id == occupancy.id]
        rows.append(BedToday(bed, occupancy, theirs[-1] if theirs else None, any(map(counts_as_asked, theirs))))
    open_worse = db.session.scalars(
        select(DailyCheckAnswer)
        .where(DailyCheckAnswer.ward_id == ward_id, DailyCheckAnswer.worse, DailyCheckAnswer.acted_on_at.is_(None))
        .order_by(DailyCheckAnswer.answered_at, DailyCheckAnswer.id)
    ).all()
    unconfirmed = [a for a in answers if not counts_as_asked(a)]
    return WardToday(day, rows, [a for a in open_worse if a.seen_at is None], list(open_worse), unconfirmed)


def _record(action: str, user: User, answer: DailyCheckAnswer, changes: dict) -> None:
    audit.record(
        action, audit.Actor.user(user.id), object_type="daily_check_answer", object_id=answer.id, changes=changes
    )
