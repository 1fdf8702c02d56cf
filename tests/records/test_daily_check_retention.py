"""Retention of the daily check (services/records/daily_check_retention.py): answers linked to a call go with the
call; unlinked answers and ended occupancies by the ward's population from their own day; purging blanks the name
and free text and keeps the coded values the figures count."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from tests.conftest import build_trust
from tests.services.test_retention import old_call
from tracker.extensions import db
from tracker.models import (
    AnsweredBy,
    AuditEvent,
    Bed,
    BedOccupancy,
    CheckChannel,
    Compared,
    DailyCheckAnswer,
    Feeling,
    Population,
)
from tracker.services.records import audit, daily_check_retention, retention
from tracker.services.setup import hospital

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def built(ctx):
    with time_machine.travel(NOW, tick=True):
        yield build_trust()


def stay(ward, since: datetime, until: datetime | None, label: str = "Bay 1") -> BedOccupancy:
    bed = db.session.scalars(select(Bed).where(Bed.ward_id == ward.id, Bed.label == label)).one()
    occupancy = BedOccupancy(bed_id=bed.id, occupied_from=since, occupied_until=until, patient_name="Pat Jones")
    db.session.add(occupancy)
    db.session.flush()
    return occupancy


def answer(occupancy: BedOccupancy, day: date, **fields) -> DailyCheckAnswer:
    bed = db.session.get(Bed, occupancy.bed_id)
    row = DailyCheckAnswer(
        ward_id=bed.ward_id,
        bed_id=bed.id,
        occupancy_id=occupancy.id,
        local_day=day,
        answered_at=datetime.combine(day, datetime.min.time(), UTC),
        feeling=Feeling.VERY_BAD,
        compared=Compared.WORSE,
        free_text="Pat is confused tonight",
        answered_by=AnsweredBy.FAMILY,
        channel=CheckChannel.TABLET,
        patient_name_given="Pat Jones",
        worse=True,
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row


def paediatric_ward(built):
    actor = audit.Actor.system()
    team = hospital.add_team(
        actor,
        code="gen-pccot",
        site=built["site"],
        name="Children's Outreach",
        population=Population.PAEDIATRIC,
        public_phone="020 7946 0102",
        duty_phone="07400 900102",
    )
    return hospital.add_ward(
        actor,
        code="kids",
        name="Kingfisher Ward",
        site=built["site"],
        team=team,
        population=Population.PAEDIATRIC,
        beds=["Cot 1"],
    )


def test_an_adult_wards_answers_go_eight_years_after_their_day_keeping_the_coded_values(built):
    ward = built["beds_ward"]
    old_stay = stay(ward, datetime(2018, 1, 1, tzinfo=UTC), datetime(2018, 1, 3, tzinfo=UTC))
    old = answer(old_stay, date(2018, 1, 2))
    recent_stay = stay(ward, datetime(2019, 6, 1, tzinfo=UTC), datetime(2019, 6, 5, tzinfo=UTC), "Bay 2")
    recent = answer(recent_stay, date(2019, 6, 2))
    with time_machine.travel(NOW, tick=False):
        sweep = daily_check_retention.due()
        assert sweep.answers == {old.id: daily_check_retention.CheckDue(date(2026, 1, 2), "adult")}
        assert set(sweep.occupancies) == {old_stay.id}  # its only answer goes now
        assert daily_check_retention.purge(sweep, audit.Actor.cli()) == {
            "daily_check_answers": 1,
            "bed_occupancies": 1,
        }
    db.session.expire_all()
    assert (old.free_text, old.patient_name_given, old_stay.patient_name) == (None, None, None)
    assert old.purged_at is not None and old_stay.purged_at is not None
    assert (old.feeling, old.compared, old.worse, old.answered_by) == (
        Feeling.VERY_BAD,
        Compared.WORSE,
        True,
        AnsweredBy.FAMILY,
    )
    assert recent.free_text and recent.patient_name_given and recent_stay.patient_name == "Pat Jones"
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "daily_check_personal_data_destroyed")
    ).one()
    assert event.changes["daily_check_answers"] == 1 and "Pat" not in str(event.changes)


def test_a_paediatric_wards_answers_are_kept_as_a_child_without_a_birth_date(built):
    ward = paediatric_ward(built)
    kid = stay(ward, datetime(2016, 1, 1, tzinfo=UTC), datetime(2016, 1, 3, tzinfo=UTC), "Cot 1")
    kept = answer(kid, date(2016, 1, 2))
    with time_machine.travel(NOW, tick=False):
        sweep = daily_check_retention.due()
    assert kept.id not in sweep.answers and kid.id not in sweep.occupancies
    settings = built["settings"]
    assert daily_check_retention.check_due(date(2016, 1, 2), settings, paediatric=True) == (
        daily_check_retention.CheckDue(date(2041, 1, 2), "child_no_birth_date")
    )


def test_an_answer_linked_to_a_call_follows_the_call_and_keeps_its_occupancys_name(built):
    ward = built["beds_ward"]
    call = old_call(ward, 1, legal_hold=True)  # closed in 2016, due, but under legal hold
    held_stay = stay(ward, datetime(2016, 4, 30, tzinfo=UTC), datetime(2016, 5, 2, tzinfo=UTC))
    linked = answer(held_stay, date(2016, 5, 1), concern_id=call.id)
    with time_machine.travel(NOW, tick=False):
        sweep = daily_check_retention.due()
        assert linked.id not in sweep.answers and held_stay.id not in sweep.occupancies
        candidate = next(c for c in retention.candidates() if c.concern_id == call.id)
        with pytest.raises(retention.LegalHold):
            retention.purge(candidate, audit.Actor.cli())
        call.legal_hold = False
        db.session.flush()
        assert retention.purge(candidate, audit.Actor.cli())["daily_check_answers"] == 1
        db.session.expire_all()
        assert (linked.free_text, linked.patient_name_given) == (None, None) and linked.purged_at is not None
        assert set(daily_check_retention.due().occupancies) == {held_stay.id}  # now nothing keeps the name


def test_an_open_occupancy_keeps_its_name(built):
    ward = built["beds_ward"]
    still_here = stay(ward, datetime(2015, 1, 1, tzinfo=UTC), None)
    with time_machine.travel(NOW, tick=False):
        assert still_here.id not in daily_check_retention.due().occupancies


def test_the_purge_command_destroys_daily_checks_after_the_calls(app, built):
    ward = built["beds_ward"]
    old_stay = stay(ward, datetime(2017, 1, 1, tzinfo=UTC), datetime(2017, 1, 3, tzinfo=UTC))
    old = answer(old_stay, date(2017, 1, 2))
    db.session.commit()  # the command writes in a session of its own
    runner = app.test_cli_runner()
    with time_machine.travel(NOW, tick=True):
        dry = runner.invoke(args=["tracker", "purge", "--dry-run"])
        assert "Daily checks due for destruction: 1 answers, 1 bed occupancies." in dry.output, dry.output
        done = runner.invoke(args=["tracker", "purge"])
    assert done.exit_code == 0, done.output
    assert "1 daily-check answers and 1 bed occupancies" in done.output
    db.session.expire_all()
    assert db.session.get(DailyCheckAnswer, old.id).free_text is None
