"""The daily check's answers (services/daily_check/answers.py): a nurse's answer for the patient in a bed, "worse"
when they feel worse or very bad, marked seen and acted on (audited); the ward's day is the trust's local day, and
an answer belongs to the patient it was given for, never to the next one in the bed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.conftest import create_staff
from tracker.extensions import db
from tracker.models import AnsweredBy, AuditEvent, Bed, CheckChannel, Compared, DailyCheckAnswer, Feeling, User
from tracker.services.daily_check import answers, occupancy
from tracker.services.daily_check.answers import AnswerProblem


@pytest.fixture
def nurse(app, trust):
    user_id, _ = create_staff(app, "ward_staff", ward_id=trust["beds_ward"])
    return user_id


def bed_of(ward_id: int, label: str = "Bay 1") -> Bed:
    return db.session.query(Bed).filter_by(ward_id=ward_id, label=label).one()


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def row(ward_id: int, label: str = "Bay 1") -> answers.BedToday:
    return next(r for r in answers.ward_today(ward_id).beds if r.bed.label == label)


@pytest.mark.parametrize(
    ("feeling", "compared", "worse"),
    [("very_good", "better", False), ("bad", "same", False), ("okay", "worse", True), ("very_bad", "better", True)],
)
def test_an_answer_is_worse_when_worse_than_yesterday_or_very_bad(ctx, trust, nurse, feeling, compared, worse):
    user = db.session.get(User, nurse)
    bed = bed_of(trust["beds_ward"])
    occupancy.admit(user, bed, "Pat")
    answer = answers.record_by_staff(user, bed, feeling, compared, " Sore \r\n head ")
    assert (answer.worse, answer.answered_by, answer.channel) == (worse, AnsweredBy.STAFF, CheckChannel.STAFF_ASSISTED)
    assert answer.free_text == "Sore \n head" and answer.recorded_by_id == nurse
    assert [r.bed.label for r in answers.ward_today(trust["beds_ward"]).worse_unseen] == (["Bay 1"] if worse else [])


def test_an_empty_bed_and_values_off_the_scales_are_refused_in_plain_words(ctx, trust, nurse):
    user = db.session.get(User, nurse)
    bed = bed_of(trust["beds_ward"])
    with pytest.raises(AnswerProblem, match="Mark the bed as occupied first"):
        answers.record_by_staff(user, bed, "good", "same")
    occupancy.admit(user, bed, None)
    with pytest.raises(AnswerProblem, match="Choose how the patient is feeling today"):
        answers.record_by_staff(user, bed, "great", "same")
    with pytest.raises(AnswerProblem, match="compared with yesterday"):
        answers.record_by_staff(user, bed, "good", "")
    with pytest.raises(AnswerProblem, match="1000 characters or fewer"):
        answers.record_by_staff(user, bed, "good", "same", "x" * 1001)
    assert db.session.query(DailyCheckAnswer).count() == 0


def test_a_second_answer_for_a_bed_within_a_minute_is_refused_not_dropped(ctx, trust, nurse):
    user = db.session.get(User, nurse)
    bed = bed_of(trust["beds_ward"])
    start = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    with at(start):
        occupancy.admit(user, bed, None)
        answers.record_by_staff(user, bed, "good", "same")
    for seconds in (1, 30, 59):
        with at(start + timedelta(seconds=seconds)), pytest.raises(AnswerProblem, match="saved a moment ago"):
            answers.record_by_staff(user, bed, "bad", "worse")
    with at(start + timedelta(seconds=61)):
        answers.record_by_staff(user, bed, "bad", "worse")
        assert row(trust["beds_ward"]).latest.feeling is Feeling.BAD


def test_seen_and_acted_on_are_audited_once_and_only_for_a_worse_answer(ctx, trust, nurse):
    user = db.session.get(User, nurse)
    bed = bed_of(trust["beds_ward"])
    occupancy.admit(user, bed, None)
    answer = answers.record_by_staff(user, bed, "okay", "worse")
    answers.mark_seen(user, answer)
    answers.mark_seen(user, answer)
    assert answers.ward_today(trust["beds_ward"]).worse_unseen == []
    answers.mark_acted_on(user, answer)
    answers.mark_acted_on(user, answer)
    assert answer.seen_by_id == answer.acted_on_by_id == nurse
    actions = [e.action for e in db.session.query(AuditEvent).filter_by(object_type="daily_check_answer")]
    assert actions == ["daily_check_recorded", "daily_check_seen", "daily_check_acted_on"]
    with at(datetime.now(UTC) + timedelta(minutes=2)):
        fine = answers.record_by_staff(user, bed, "good", "better")
    with pytest.raises(AnswerProblem, match="Only a worse answer"):
        answers.mark_seen(user, fine)


@pytest.fixture
def other_nurse(app, trust):
    user_id, _ = create_staff(app, "ward_staff", ward_id=trust["ward"])
    return user_id


def test_another_wards_answer_is_not_the_nurses(other_nurse, ctx, trust, nurse):
    user = db.session.get(User, nurse)
    bed = bed_of(trust["beds_ward"])
    occupancy.admit(user, bed, None)
    answer = answers.record_by_staff(user, bed, "okay", "worse")
    assert answers.ward_answer(db.session.get(User, other_nurse), answer.id) is None
    assert answers.ward_answer(user, answer.id) is answer


def test_a_self_answer_counts_as_asked_only_once_staff_confirm_it(ctx, trust, nurse):
    user = db.session.get(User, nurse)
    bed = bed_of(trust["beds_ward"])
    stay = occupancy.admit(user, bed, None)
    now = datetime.now(UTC)
    self_answer = DailyCheckAnswer(
        ward_id=bed.ward_id,
        bed_id=bed.id,
        occupancy_id=stay.id,
        local_day=answers.local_day(now),
        answered_at=now,
        feeling=Feeling.GOOD,
        compared=Compared.SAME,
        answered_by=AnsweredBy.FAMILY,
        channel=CheckChannel.TABLET,
        worse=False,
    )
    db.session.add(self_answer)
    db.session.flush()
    today = row(trust["beds_ward"])
    assert today.latest is self_answer and not today.asked
    self_answer.confirmed_at, self_answer.confirmed_by_id = now, nurse
    assert row(trust["beds_ward"]).asked


# Europe/London: the clocks go back at 01:00 UTC on 25 October 2026 and forward at 01:00 UTC on 28 March 2027.
@pytest.mark.parametrize(
    ("asked_at", "still_asked_at", "next_day_at"),
    [
        # Summer time: local midnight is 23:00 UTC.
        ("2026-07-01T22:30", "2026-07-01T22:59", "2026-07-01T23:01"),
        # The day the clocks go back is 25 hours long: asked at 00:30 BST, still today at 23:30 GMT.
        ("2026-10-24T23:30", "2026-10-25T23:59", "2026-10-26T00:01"),
        # The day the clocks go forward: asked at 23:30 GMT the night before, a new day an hour after.
        ("2027-03-27T23:30", "2027-03-27T23:59", "2027-03-28T00:01"),
        ("2027-03-28T22:30", "2027-03-28T22:59", "2027-03-28T23:01"),
    ],
)
def test_not_asked_today_follows_the_trusts_local_midnight_and_clock_changes(
    ctx, trust, nurse, asked_at, still_asked_at, next_day_at
):
    user = db.session.get(User, nurse)
    bed = bed_of(trust["beds_ward"])

    def utc(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    with at(utc(asked_at) - timedelta(hours=1)):
        occupancy.admit(user, bed, "Pat")
    with at(utc(asked_at)):
        answers.record_by_staff(user, bed, "good", "same")
        assert row(trust["beds_ward"]).asked
    with at(utc(still_asked_at)):
        assert row(trust["beds_ward"]).asked
        assert answers.ward_today(trust["beds_ward"]).not_asked == []
    with at(utc(next_day_at)):
        today = row(trust["beds_ward"])
        assert not today.asked and today.latest is None
        assert [r.bed.label for r in answers.ward_today(trust["beds_ward"]).not_asked] == ["Bay 1"]


def test_a_patient_admitted_after_a_same_day_discharge_is_not_asked_until_asked(ctx, trust, nurse):
    """The bed's previous patient was asked this morning; their answer is theirs, not the new patient's."""
    user = db.session.get(User, nurse)
    bed = bed_of(trust["beds_ward"])
    # 25 October 2026, the day the clocks go back, across the change itself.
    with at(datetime(2026, 10, 24, 23, 30, tzinfo=UTC)):  # 00:30 BST
        occupancy.admit(user, bed, "First patient")
        answers.record_by_staff(user, bed, "very_bad", "worse")
    with at(datetime(2026, 10, 25, 10, 0, tzinfo=UTC)):  # 10:00 GMT, the same local day
        assert row(trust["beds_ward"]).asked
        occupancy.discharge(user, bed)
        assert row(trust["beds_ward"]).occupancy is None
        occupancy.admit(user, bed, "Second patient")
        today = row(trust["beds_ward"])
        assert not today.asked and today.latest is None
        assert [r.bed.label for r in answers.ward_today(trust["beds_ward"]).not_asked] == ["Bay 1"]
        # The first patient's worse answer still waits to be seen: discharge does not hide it.
        assert len(answers.ward_today(trust["beds_ward"]).worse_unseen) == 1
    with at(datetime(2026, 10, 25, 10, 5, tzinfo=UTC)):
        answers.record_by_staff(user, bed, "good", "better")
        assert row(trust["beds_ward"]).asked
