"""Daily rollups (docs/architecture.md#daily-rollups): the dashboard added up from them equals the dashboard
counted straight from the calls (tests/reports/direct_dashboard.py, the computation the rollups replaced), for
several periods, sites, time zones and settings; each change listed as making a day stale does so; and
`flask tracker check-rollups` finds a day that differs. Runs on SQLite and, with TEST_DATABASE_URL, PostgreSQL
(where the trigger is plpgsql and the direct percentiles are percentile_cont's)."""

from __future__ import annotations

import random
from dataclasses import asdict
from datetime import date, time, timedelta

import pytest
import time_machine
from sqlalchemy import delete, select, update

from tests.conftest import build_trust
from tests.reports import direct_dashboard
from tests.reports.calls import ACUTE, CHANGE, CLINICAL, COMMUNICATION, NO_CHANGE, OTHER, OXYGEN, F, P, S, call, text
from tracker.extensions import db
from tracker.models import (
    Audience,
    CancelKind,
    Concern,
    ConcernStatus,
    Message,
    Population,
    ReportDay,
    SendState,
    SmsOptOut,
    Team,
)
from tracker.services.records import audit
from tracker.services.reports import dashboard as dashboard_figures
from tracker.services.reports import periods, report_facts, rollups
from tracker.services.reports.working_hours import save_working_hours
from tracker.services.setup import hospital
from tracker.services.setup.settings import current_settings

NOW = "2025-12-10 12:00:00+00:00"
SEPTEMBER = periods.month_period(date(2025, 9, 1))
OCTOBER = periods.month_period(date(2025, 10, 1))
PERIODS = [
    SEPTEMBER,
    OCTOBER,
    periods.Period(date(2025, 9, 20), date(2025, 10, 12)),  # not whole months: its own trend
    periods.Period(date(2025, 1, 1), date(2025, 12, 31)),  # a year, its last days counted live
    periods.Period(date(2025, 10, 26), date(2025, 10, 26)),  # the day the clocks go back
]
# (send state, delivery status, error code): every kind of text the dashboard's figures tell apart
TEXTS = [
    (SendState.ACCEPTED, "delivered", None),
    (SendState.ACCEPTED, "sent", None),
    (SendState.ACCEPTED, "undelivered", None),
    (SendState.ACCEPTED, "failed", None),
    (SendState.DEAD, None, "30003"),
    (SendState.DEAD, None, "21610"),
    (SendState.CANCELLED, None, None),
    (SendState.CANCELLED, None, "21610"),
    (SendState.PENDING, None, None),
]
NUMBERS = ["+447400900001", "+447400900002", "+447400900003"]  # the first opted out, the second opted back in
STATUSES = [ConcernStatus.CLOSED] * 6 + [
    ConcernStatus.NEW,
    ConcernStatus.ACKNOWLEDGED,
    ConcernStatus.REVIEWED,
    ConcernStatus.CANCELLED,
]


def seeded_calls(wards: list, seed: int = 7, count: int = 260) -> list[Concern]:
    """Calls with every coding, clock and status the figures tell apart, raised from August to December
    2025 at any time of day (the BST change included); some linked, some with no ward yet. Commits."""
    rng = random.Random(seed)
    made: list[Concern] = []
    start = date(2025, 8, 1)
    for _n in range(count):
        day = start + timedelta(days=rng.randrange(0, 131))
        raised = f"{day} {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
        status = rng.choice(STATUSES)
        kind = rng.choice([ACUTE, CLINICAL, COMMUNICATION, OTHER]) if status is ConcernStatus.CLOSED else None
        outcome = rng.choice([CHANGE, NO_CHANGE, None]) if kind is ACUTE else None

        def maybe(low: int, high: int, chance: float = 0.8) -> int | None:
            return rng.randrange(low, high) if rng.random() < chance else None

        cancel = rng.choice([CancelKind.DUPLICATE, CancelKind.WITHDRAWN]) if status is ConcernStatus.CANCELLED else None
        concern = call(
            rng.choice(wards),
            raised,
            rng.choice([P, F, S]),
            status,
            kind=kind,
            outcome=outcome,
            changes=[OXYGEN] if outcome is CHANGE else (),
            review=rng.choice([True, False, None]) if kind and kind is not ACUTE else None,
            alert=maybe(5, 120),
            ack=None if status is ConcernStatus.NEW else maybe(30, 900, 0.9),
            reviewed=maybe(600, 4000, 0.6) if status is not ConcernStatus.NEW else None,
            updated=maybe(1000, 9000, 0.5),
            cancel=cancel,
        )
        if rng.random() < 0.05:
            concern.ward_id = None  # a text-in call nobody has put on a ward yet
        if made and rng.random() < 0.1:
            concern.linked_to_id = rng.choice(made).id
        for _text in range(rng.randrange(4)):
            state, delivery, error = rng.choice(TEXTS)
            text(concern, rng.choice(list(Audience)), state, delivery, error=error, number=rng.choice(NUMBERS))
        made.append(concern)
    db.session.add(SmsOptOut(number=NUMBERS[0], opted_out=True, keyword="STOP"))
    db.session.add(SmsOptOut(number=NUMBERS[1], opted_out=False, keyword="START"))
    db.session.commit()
    return made


@pytest.fixture
def trust(ctx):
    built = build_trust()
    actor = audit.Actor.cli()
    other = hospital.add_site(actor, code="east", name="East Hospital")
    team = hospital.add_team(
        actor,
        code="east-ccot",
        site=other,
        name="East Outreach",
        population=Population.ADULT,
        public_phone="+442079460102",
        duty_phone=None,
        ack_target_minutes=3,
        review_target_minutes=20,
    )
    east = hospital.add_ward(actor, code="e1", name="East 1", site=other, team=team, population=Population.ADULT)
    db.session.commit()
    with time_machine.travel(NOW, tick=False):
        calls = seeded_calls([built["ward"], built["beds_ward"], east])
    return {**built, "east_site": other, "east_team": team, "calls": calls}


def both(site, period):
    """(from the rollups, counted directly), at NOW."""
    settings = current_settings()
    with time_machine.travel(NOW, tick=False):
        return (
            dashboard_figures.dashboard(site, period, settings),
            direct_dashboard.dashboard(site, period, settings),
        )


def build_all() -> int:
    with time_machine.travel(NOW, tick=False):
        differing, built = rollups.check(repair=True)
    db.session.commit()
    assert differing == []
    return built


def fresh_days(site_id: int) -> set[date]:
    return set(
        db.session.scalars(
            select(ReportDay.local_day).where(
                ReportDay.site_id == site_id, ReportDay.built_generation == ReportDay.generation
            )
        )
    )


def assert_same(site, period):
    from_rollups, direct = both(site, period)
    assert asdict(from_rollups) == asdict(direct), period  # the oracle has its own dataclasses


def test_the_dashboard_from_rollups_equals_the_direct_count_for_every_period_site_and_setting(trust):
    assert build_all() > 100
    assert date(2025, 10, 26) in fresh_days(trust["site"].id)
    for site in (trust["site"], trust["east_site"]):
        for period in PERIODS:
            assert_same(site, period)
    # Linked calls counted once, and an in-hours window that starts and ends inside an hour.
    hospital.save_linked_calls_counted(audit.Actor.cli(), "once")
    save_working_hours(audit.Actor.cli(), start=time(8, 30), end=time(17, 45), region="scotland")
    db.session.commit()
    for period in PERIODS[:3]:
        assert_same(trust["site"], period)
    # Team targets changed after the days were kept: breaches are judged against the new targets.
    db.session.execute(update(Team).values(ack_target_minutes=2, review_target_minutes=10))
    db.session.commit()
    assert_same(trust["site"], OCTOBER)


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_a_time_zone_change_makes_the_moved_days_stale_and_the_figures_stay_exact(trust, zone):
    build_all()
    with time_machine.travel(NOW, tick=False):
        hospital.save_settings(
            audit.Actor.cli(),
            trust_name="Test Hospitals NHS Trust",
            emergency_instruction="Press the red buzzer or ask any nurse now. Call 2222.",
            outreach_phone="020 7946 0100",
            pals_phone="020 7946 0199",
            text_relatives_allowed=True,
            timezone=zone,
        )
    db.session.commit()
    assert report_facts.check() == (0, [])
    for period in PERIODS[:3]:
        assert_same(trust["site"], period)
    build_all()  # rebuilt in the new zone
    for period in PERIODS[:3]:
        assert_same(trust["site"], period)


def an_october_call(trust, **where) -> Concern:
    return next(
        c
        for c in trust["calls"]
        if c.site_id == trust["site"].id
        and c.raised_local_month == date(2025, 10, 1)
        and all(getattr(c, k) == v for k, v in where.items())
    )


def change_reopen(concern: Concern) -> None:
    concern.status = ConcernStatus.REVIEWED
    concern.closed_at = None


def change_recoding(concern: Concern) -> None:
    concern.concern_type = OTHER
    concern.caller_route = S


def change_late_close(concern: Concern) -> None:
    concern.status = ConcernStatus.CLOSED
    concern.concern_type = COMMUNICATION
    concern.closed_at = concern.raised_at + timedelta(days=20)


def change_merge(concern: Concern) -> None:
    concern.status = ConcernStatus.CANCELLED
    concern.cancel_kind = CancelKind.DUPLICATE


def change_moved_ward(concern: Concern) -> None:
    concern.ward_id = None


def change_clock(concern: Concern) -> None:
    concern.reviewed_at = concern.raised_at + timedelta(seconds=99)  # a late correction of the review time


CHANGES = {
    "reopen": (change_reopen, {"status": ConcernStatus.CLOSED}),
    "re-coding": (change_recoding, {"status": ConcernStatus.CLOSED}),
    "late close": (change_late_close, {"status": ConcernStatus.ACKNOWLEDGED}),
    "merge": (change_merge, {"status": ConcernStatus.CLOSED}),
    "moved ward": (change_moved_ward, {"status": ConcernStatus.CLOSED}),
    "clock corrected": (change_clock, {"status": ConcernStatus.REVIEWED}),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_each_change_to_a_kept_days_call_makes_that_day_stale(trust, name):
    build_all()
    change, where = CHANGES[name]
    concern = an_october_call(trust, **where)
    day = concern.raised_local_date
    assert day in fresh_days(trust["site"].id)
    change(concern)
    db.session.commit()
    assert day not in fresh_days(trust["site"].id)
    assert_same(trust["site"], OCTOBER)
    with time_machine.travel(NOW, tick=False):
        assert rollups.refresh(trust["site"].id, OCTOBER.start, OCTOBER.end) == 1
    db.session.commit()
    assert day in fresh_days(trust["site"].id)
    assert_same(trust["site"], OCTOBER)


def test_a_call_moved_to_another_site_makes_its_day_stale_at_both(trust):
    build_all()
    concern = an_october_call(trust, status=ConcernStatus.CLOSED)
    day, east = concern.raised_local_date, trust["east_site"]
    east_ward = db.session.scalars(select(Concern.ward_id).where(Concern.site_id == east.id)).first()
    fresh_east = fresh_days(east.id)
    db.session.execute(
        update(Concern)
        .where(Concern.id == concern.id)
        .values(site_id=east.id, ward_id=east_ward, team_id=trust["east_team"].id)
    )  # a Core write, as the services' bulk updates are: the trigger sees it all the same
    db.session.commit()
    assert day not in fresh_days(trust["site"].id)
    assert day not in fresh_days(east.id) or day not in fresh_east
    assert_same(trust["site"], OCTOBER)
    assert_same(east, OCTOBER)


def test_a_purged_call_makes_its_day_stale(trust):
    build_all()
    concern = an_october_call(trust, status=ConcernStatus.CLOSED)
    day = concern.raised_local_date
    db.session.execute(update(Concern).where(Concern.linked_to_id == concern.id).values(linked_to_id=None))
    db.session.execute(delete(Concern).where(Concern.id == concern.id))  # retention removes calls
    db.session.commit()
    assert day not in fresh_days(trust["site"].id)
    assert_same(trust["site"], OCTOBER)


def test_a_call_written_for_an_old_day_makes_that_day_stale(trust):
    build_all()
    with time_machine.travel(NOW, tick=False):
        late = call(trust["ward"], "2025-10-14 09:00", F, kind=CLINICAL, review=True, alert=10, ack=100)
        db.session.commit()
    assert late.raised_local_date not in fresh_days(trust["site"].id)
    assert_same(trust["site"], OCTOBER)


def a_pending_text(concern: Concern) -> Message:
    message = db.session.scalars(
        select(Message).where(Message.concern_id == concern.id, Message.send_state == SendState.PENDING)
    ).first()
    assert message is not None
    return message


def change_text_delivered_late(concern: Concern) -> None:
    message = a_pending_text(concern)
    message.send_state, message.delivery_status = SendState.ACCEPTED, "delivered"  # the provider's late callback


def change_text_sent_late(concern: Concern) -> None:
    text(concern, Audience.FAMILY, SendState.ACCEPTED, "delivered")


def change_text_failed(concern: Concern) -> None:
    message = a_pending_text(concern)
    message.send_state, message.error_code = SendState.DEAD, "21610"


def change_text_purged(concern: Concern) -> None:
    db.session.execute(delete(Message).where(Message.concern_id == concern.id))


TEXT_CHANGES = {
    "delivered late": change_text_delivered_late,
    "sent late": change_text_sent_late,
    "failed": change_text_failed,
    "purged": change_text_purged,
}


@pytest.mark.parametrize("name", list(TEXT_CHANGES))
def test_each_change_to_a_text_about_a_kept_days_call_makes_that_day_stale(trust, name):
    """Migration 0037's trigger on `message`: the texts are kept in the day of the call they are about."""
    build_all()
    concern = next(
        c
        for c in trust["calls"]
        if c.site_id == trust["site"].id
        and c.raised_local_month == date(2025, 10, 1)
        and c.status is ConcernStatus.CLOSED  # not a duplicate, which no figure counts
        and db.session.scalar(
            select(Message.id).where(Message.concern_id == c.id, Message.send_state == SendState.PENDING)
        )
    )
    day = concern.raised_local_date
    assert day in fresh_days(trust["site"].id)
    before = both(trust["site"], OCTOBER)[1].sms
    TEXT_CHANGES[name](concern)
    db.session.commit()
    assert day not in fresh_days(trust["site"].id)
    from_rollups, direct = both(trust["site"], OCTOBER)
    assert direct.sms != before  # the change is one the figures show
    assert from_rollups.sms == direct.sms
    build_all()
    assert_same(trust["site"], OCTOBER)


def test_the_outboxs_other_writes_leave_a_kept_day_fresh(trust):
    build_all()
    concern = an_october_call(trust, status=ConcernStatus.CLOSED)
    message = text(concern, Audience.CLINICIAN, SendState.ACCEPTED, "delivered")
    db.session.commit()
    build_all()
    day = concern.raised_local_date
    assert day in fresh_days(trust["site"].id)
    message.attempts = 3  # a lease, an attempt, a due time: nothing the figures count
    db.session.commit()
    assert day in fresh_days(trust["site"].id)


def test_a_number_opted_out_after_its_day_was_kept_counts_its_failed_texts_as_opted_out(trust):
    build_all()
    family = Audience.FAMILY.value
    before = both(trust["site"], OCTOBER)
    assert before[0].sms == before[1].sms
    db.session.execute(update(SmsOptOut).where(SmsOptOut.number == NUMBERS[1]).values(opted_out=True))
    db.session.add(SmsOptOut(number=NUMBERS[2], opted_out=True, keyword="STOP"))
    db.session.commit()
    from_rollups, direct = both(trust["site"], OCTOBER)
    assert direct.sms[family]["opted_out"] > before[1].sms[family]["opted_out"]
    assert from_rollups.sms == direct.sms
    hospital.save_linked_calls_counted(audit.Actor.cli(), "once")
    db.session.commit()
    assert_same(trust["site"], OCTOBER)


def test_a_row_built_from_figures_a_later_change_overtook_is_not_kept(trust):
    """The generation check (rollups.py `_store`): figures counted before a change the trigger recorded are
    dropped, not kept as fresh."""
    build_all()
    site_id, day = trust["site"].id, date(2025, 10, 14)
    generation = db.session.scalar(
        select(ReportDay.generation).where(ReportDay.site_id == site_id, ReportDay.local_day == day)
    )
    counted_before = rollups.build(site_id, [day])[day]
    late = call(trust["ward"], "2025-10-14 10:00", F, kind=CLINICAL, review=True)
    db.session.flush()
    rollups._store(site_id, day, counted_before, generation)
    db.session.commit()
    assert day not in fresh_days(site_id)
    assert late.id


def test_recent_days_are_never_kept_and_always_counted_live(trust):
    with time_machine.travel(NOW, tick=False):
        rollups.check(repair=True)
        db.session.commit()
    live = rollups.first_live_day()
    assert all(day < live for day in fresh_days(trust["site"].id))


def test_check_rollups_reports_a_day_that_differs_and_repairs_it(trust, app):
    build_all()
    day = an_october_call(trust, status=ConcernStatus.CLOSED).raised_local_date
    # A row changed behind the trigger's back (a restore of an old table, a hand edit): still marked fresh.
    db.session.execute(
        update(ReportDay)
        .where(ReportDay.site_id == trust["site"].id, ReportDay.local_day == day)
        .values(counts=ReportDay.counts.op("||")(" "))
    )
    db.session.commit()
    runner = app.test_cli_runner()
    with time_machine.travel(NOW, tick=False):
        found = runner.invoke(args=["tracker", "check-rollups"])
    assert found.exit_code == 1, found.output
    assert f"site {trust['site'].id}, {day}" in found.output
    with time_machine.travel(NOW, tick=False):
        repaired = runner.invoke(args=["tracker", "check-rollups", "--repair"])
    assert repaired.exit_code == 1  # it says what it found, and rebuilt it
    with time_machine.travel(NOW, tick=False):
        again = runner.invoke(args=["tracker", "check-rollups"])
    assert again.exit_code == 0, again.output
    assert "agrees" in again.output
