"""Report facts (services/reports/report_facts.py): each call's local day, month, hour, seconds since
midnight and weekday in the trust's time zone, and each clock's duration in whole microseconds,
kept by every writer (intake, triage, the worker's delivery, ORM edits), recomputed when the trust's
time zone changes, checked and repaired by `flask tracker report-facts`, and missing facts flagged
on the dashboard. (The migration's backfill: tests/test_migration_report_facts.py.)"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import select, text

from tests.conftest import build_trust, create_staff
from tests.reports.calls import F, call, utc
from tests.services.test_concerns import raise_one
from tests.test_cli import run
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, CallerUpdateMethod, Concern, ConcernStatus, ConcernType, ReviewKind, Site, User
from tracker.services.concerns import caller_updates, triage
from tracker.services.records import audit
from tracker.services.reports import dashboard as dashboard_figures
from tracker.services.reports import periods, report_facts
from tracker.services.setup import hospital
from tracker.services.setup.settings import current_settings
from tracker.worker import Worker

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, SUNDAY = 0, 1, 2, 3, 6
US = 1_000_000  # microseconds in a second


def facts(concern_id: int) -> dict:
    """The call's facts as stored now (a plain SELECT, never the session's copy of the call)."""
    row = db.session.execute(
        select(*[getattr(Concern, name) for name in report_facts.ALL_FACTS]).where(Concern.id == concern_id)
    ).one()
    return dict(zip(report_facts.ALL_FACTS, row, strict=True))


def local_facts(concern_id: int) -> tuple:
    found = facts(concern_id)
    return tuple(found[name] for name in report_facts.LOCAL_FACTS)


def durations(concern_id: int) -> dict:
    found = facts(concern_id)
    return {clock: found[fact] for clock, fact in report_facts.CLOCK_FACTS.items()}


def fresh(concern_id: int) -> Concern:
    db.session.expire_all()
    return db.session.get(Concern, concern_id)


# --- 1. local facts: the wall clock of Europe/London, BST and the clock changes included ---------

# (raised at, UTC) -> (local date, first day of its month, hour, seconds since local midnight, weekday)
LONDON_CASES = {
    "winter, GMT is UTC": (
        "2026-01-15 12:34:56",
        (date(2026, 1, 15), date(2026, 1, 1), 12, 12 * 3600 + 34 * 60 + 56, THURSDAY),
    ),
    "BST: 23:30 UTC on 30 June is 00:30 on Tuesday 1 July, the next month": (
        "2025-06-30 23:30:00",
        (date(2025, 7, 1), date(2025, 7, 1), 0, 1800, TUESDAY),
    ),
    "spring forward: the last second of GMT on Sunday 30 March": (
        "2025-03-30 00:59:59",
        (date(2025, 3, 30), date(2025, 3, 1), 0, 3599, SUNDAY),
    ),
    "spring forward: one second later it is 02:00 BST (there is no 01:xx that night)": (
        "2025-03-30 01:00:00",
        (date(2025, 3, 30), date(2025, 3, 1), 2, 7200, SUNDAY),
    ),
    "BST begins: 23:00 UTC on Saturday 25 October is already Sunday 00:00 locally": (
        "2025-10-25 23:00:00",
        (date(2025, 10, 26), date(2025, 10, 1), 0, 0, SUNDAY),
    ),
    "clocks go back: 01:30 BST on Sunday 26 October, the first time": (
        "2025-10-26 00:30:00",
        (date(2025, 10, 26), date(2025, 10, 1), 1, 5400, SUNDAY),
    ),
    "clocks go back: 01:30 GMT, the second time, is hour 1 again": (
        "2025-10-26 01:30:00",
        (date(2025, 10, 26), date(2025, 10, 1), 1, 5400, SUNDAY),
    ),
    "New Year's Eve in winter: 23:59:59 UTC is still Wednesday 31 December (and December)": (
        "2025-12-31 23:59:59",
        (date(2025, 12, 31), date(2025, 12, 1), 23, 86399, WEDNESDAY),
    ),
    "the last microsecond of the year is still 31 December (seconds are whole, rounded down)": (
        "2025-12-31 23:59:59.999999",
        (date(2025, 12, 31), date(2025, 12, 1), 23, 86399, WEDNESDAY),
    ),
}


@pytest.mark.parametrize(("raised", "expected"), LONDON_CASES.values(), ids=LONDON_CASES.keys())
def test_the_local_facts_are_the_london_wall_clock_when_the_call_was_raised(raised, expected):
    assert tuple(report_facts.local_values(utc(raised), "Europe/London").values()) == expected


@pytest.mark.parametrize(("raised", "expected"), LONDON_CASES.values(), ids=LONDON_CASES.keys())
def test_a_call_raised_through_the_intake_service_is_stored_with_its_london_local_facts(ctx, raised, expected):
    ward = build_trust()["ward"]
    with time_machine.travel(utc(raised), tick=False):
        concern_id = raise_one(ward).concern.id
    assert fresh(concern_id).raised_at == utc(raised)
    assert local_facts(concern_id) == expected
    assert expected[2] == expected[3] // 3600  # the hour and the seconds agree (the dashboard's hours use either)


@pytest.mark.parametrize(("raised", "expected"), LONDON_CASES.values(), ids=LONDON_CASES.keys())
def test_a_call_written_through_the_orm_is_stored_with_the_same_local_facts(ctx, raised, expected):
    ward = build_trust()["ward"]
    concern_id = call(ward, raised, F, ConcernStatus.NEW).id
    db.session.commit()
    assert local_facts(concern_id) == expected


# --- 2. durations: exact whole microseconds, NULL until the clock is set --------------------------


def test_durations_are_exact_whole_microseconds_and_null_until_each_clock_is_set(ctx):
    ward = build_trust()["ward"]
    concern = call(ward, "2025-10-26 00:30:00.000001", F, ConcernStatus.NEW)  # 01:30 BST, before the clocks go back
    db.session.commit()
    assert durations(concern.id) == dict.fromkeys(report_facts.CLOCK_FACTS)

    raised = concern.raised_at
    concern.first_alert_sent_at = raised + timedelta(microseconds=1)
    db.session.commit()
    assert durations(concern.id) == {
        "first_alert_sent_at": 1,
        "acknowledged_at": None,
        "reviewed_at": None,
        "caller_updated_at": None,
    }

    # 01:30 GMT: the same wall clock time, one real hour later: durations are real time, not wall clock.
    concern.acknowledged_at = utc("2025-10-26 01:30:00.000001")
    # Long and odd: 400 days and 999,999 µs less one (too many digits for a float of seconds to keep).
    concern.reviewed_at = raised + timedelta(days=400, microseconds=999_998)
    # 1.000001 s: a float of seconds times a million truncates it to 1,000,000.
    concern.caller_updated_at = raised + timedelta(seconds=1, microseconds=1)
    db.session.commit()
    assert durations(concern.id) == {
        "first_alert_sent_at": 1,
        "acknowledged_at": 3600 * US,
        "reviewed_at": 400 * 86400 * US + 999_998,
        "caller_updated_at": 1_000_001,
    }
    assert all(isinstance(value, int) for value in durations(concern.id).values())

    concern.first_alert_sent_at = None  # a clock taken away takes its duration with it
    db.session.commit()
    assert durations(concern.id)["first_alert_sent_at"] is None


def test_moving_a_calls_raised_time_through_the_orm_recomputes_every_fact(ctx):
    ward = build_trust()["ward"]
    concern = call(ward, "2025-06-30 23:30:00", F, ConcernStatus.NEW, alert=30, ack=300)
    db.session.commit()
    assert durations(concern.id)["first_alert_sent_at"] == 30 * US
    # Corrected to an hour earlier: 23:30 BST on Monday 30 June, and every clock an hour longer.
    concern.raised_at = utc("2025-06-30 22:30:00")
    db.session.commit()
    assert local_facts(concern.id) == (date(2025, 6, 30), date(2025, 6, 1), 23, 23 * 3600 + 1800, MONDAY)
    assert durations(concern.id) == {
        "first_alert_sent_at": 3630 * US,
        "acknowledged_at": 3900 * US,
        "reviewed_at": None,
        "caller_updated_at": None,
    }
    assert report_facts.check() == (0, [])


# --- 3. each writer keeps them ------------------------------------------------------------------

T0 = utc("2025-06-30 23:30:00.000001")  # 00:30 BST on Tuesday 1 July


def at(**offset):
    """Frozen time `offset` after the call was raised (the worker's session sees it too)."""
    return time_machine.travel(T0 + timedelta(**offset), tick=False)


@pytest.fixture
def story(ctx, app, sms):
    """A call raised through intake at T0 on a trust with two clinicians in the team."""
    built = build_trust()
    team = built["team"].id
    db.session.commit()  # release SQLite's write lock: create_staff writes from its own session
    nurse_id, _ = create_staff(app, "outreach", team_ids=[team])
    colleague_id, _ = create_staff(app, "outreach", team_ids=[team])
    with at():
        concern_id = raise_one(built["ward"]).concern.id
    return {
        "id": concern_id,
        "nurse": db.session.get(User, nurse_id),
        "colleague": db.session.get(User, colleague_id),
        "worker": Worker(app, sender=sms),
    }


def run_worker(story) -> dict:
    db.session.rollback()  # the worker is another session: hold no lock while it runs
    return story["worker"].run_once().outcomes


def test_intake_stores_the_local_facts_and_no_durations_yet(story):
    assert local_facts(story["id"]) == (date(2025, 7, 1), date(2025, 7, 1), 0, 1800, TUESDAY)
    assert durations(story["id"]) == dict.fromkeys(report_facts.CLOCK_FACTS)


def test_the_first_alert_accepted_by_the_provider_sets_the_time_to_first_alert(story, sms):
    with at(seconds=30, microseconds=250_000):
        assert run_worker(story) == {"accepted": 2}  # the clinician's alert and the caller's receipt
    concern = fresh(story["id"])
    assert concern.first_alert_sent_at == T0 + timedelta(seconds=30, microseconds=250_000)
    # The caller's receipt is not an update: only the first alert's clock is set.
    assert durations(story["id"]) == {
        "first_alert_sent_at": 30_250_000,
        "acknowledged_at": None,
        "reviewed_at": None,
        "caller_updated_at": None,
    }


def test_a_claim_sets_the_time_to_acknowledge_and_a_released_claim_is_not_the_patients_wait(story):
    with at(minutes=4, seconds=3, microseconds=7):
        triage.claim(story["id"], story["nurse"])
        db.session.commit()
    assert durations(story["id"])["acknowledged_at"] == 243 * US + 7
    with at(minutes=10):
        triage.release(story["id"], story["nurse"], "Called to a cardiac arrest", fresh(story["id"]).version)
        db.session.commit()
    # Back on the queue: the patient is waiting again, so the call is not timed as claimed.
    assert fresh(story["id"]).acknowledged_at is None
    assert durations(story["id"])["acknowledged_at"] is None
    with at(minutes=20):
        triage.claim(story["id"], story["colleague"])
        db.session.commit()
    concern = fresh(story["id"])
    assert concern.claimed_by_id == story["colleague"].id
    # Raised to claimed runs to the claim that stood, the colleague's.
    assert concern.acknowledged_at == T0 + timedelta(minutes=20)
    assert durations(story["id"])["acknowledged_at"] == 1200 * US
    assert report_facts.check() == (0, [])


def test_a_hand_over_keeps_the_claim_that_stood(story):
    with at(minutes=4):
        triage.claim(story["id"], story["nurse"])
        db.session.commit()
    with at(minutes=9):
        triage.hand_over(
            story["id"], story["nurse"], story["colleague"].id, "Going to theatre", fresh(story["id"]).version
        )
        db.session.commit()
    assert durations(story["id"])["acknowledged_at"] == 240 * US


def test_a_reopened_call_released_keeps_the_first_episodes_claim(story):
    with at(minutes=4):
        triage.claim(story["id"], story["nurse"])
        db.session.commit()
    with at(minutes=5):
        triage.close_without_review(
            story["id"],
            story["nurse"],
            triage.Coding(
                ConcernType.OTHER_SIGNPOSTED,
                False,
                caller_update_method=CallerUpdateMethod.PHONE,
                caller_updated_at=T0 + timedelta(minutes=5),
            ),
            "Signposted to PALS",
            fresh(story["id"]).version,
        )
        db.session.commit()
    with at(hours=2):
        triage.reopen(story["id"], story["colleague"], "Family phoned again: worse", fresh(story["id"]).version)
        db.session.commit()
    with at(hours=2, minutes=1):
        triage.release(story["id"], story["colleague"], "Wrong team", fresh(story["id"]).version)
        db.session.commit()
    # The figures describe the call as first raised: its first episode's claim stood.
    assert fresh(story["id"]).acknowledged_at == T0 + timedelta(minutes=4)
    assert durations(story["id"])["acknowledged_at"] == 240 * US


def test_a_recorded_review_sets_the_time_to_review(story):
    with at(minutes=5):
        triage.claim(story["id"], story["nurse"])
        db.session.commit()
    with at(minutes=25, microseconds=999_999):
        triage.record_review(
            story["id"],
            story["nurse"],
            kind=ReviewKind.SEEN_ON_WARD,
            findings="RR 24, new O2",
            news2=None,
            version=fresh(story["id"]).version,
        )
        db.session.commit()
    assert durations(story["id"]) == {
        "first_alert_sent_at": None,
        "acknowledged_at": 300 * US,
        "reviewed_at": 1500 * US + 999_999,
        "caller_updated_at": None,
    }


def test_only_the_clinicians_record_at_close_sets_caller_updated_not_a_text(story):
    with at(minutes=2):
        triage.claim(story["id"], story["nurse"])
        db.session.commit()
    with at(minutes=3):
        caller_updates.update_caller(story["id"], story["nurse"], "update_team_coming")
        db.session.commit()
        run_worker(story)  # the caller's receipt, and the update
    assert fresh(story["id"]).caller_updated_at is None  # a text is not the caller told the outcome
    assert durations(story["id"])["caller_updated_at"] is None
    with at(minutes=30):
        concern = fresh(story["id"])
        triage.record_review(
            concern.id,
            story["nurse"],
            kind=ReviewKind.PHONE_ADVICE,
            findings="Advice given",
            news2=None,
            version=concern.version,
        )
        db.session.commit()
    with at(minutes=40):
        coding = triage.Coding(
            ConcernType.COMMUNICATION,
            True,
            caller_update_method=CallerUpdateMethod.PHONE,
            caller_updated_at=T0 + timedelta(minutes=35),
        )
        triage.close(story["id"], story["nurse"], coding, "", fresh(story["id"]).version)
        db.session.commit()
    # The time given at close (the ORM path) is the one kept, and its duration with it.
    assert durations(story["id"])["caller_updated_at"] == 35 * 60 * US
    assert fresh(story["id"]).status is ConcernStatus.CLOSED
    assert report_facts.check() == (0, [])


# --- 4. a new time zone recomputes every call's local facts, in the same transaction -------------


def save_time_zone(zone: str):
    """The test trust's settings (tests/conftest.py: build_trust) with only the time zone changed."""
    return hospital.save_settings(
        audit.Actor.cli(),
        trust_name="Test Hospitals NHS Trust",
        emergency_instruction="Press the red buzzer or ask any nurse now. Call 2222.",
        outreach_phone="020 7946 0100",
        pals_phone="020 7946 0199",
        text_relatives_allowed=True,
        timezone=zone,
    )


def test_changing_the_trusts_time_zone_recomputes_every_calls_local_facts_in_the_same_transaction(ctx):
    ward = build_trust()["ward"]
    summer = call(ward, "2025-06-30 23:30:00", F, alert=30, ack=300, reviewed=1200, updated=1800).id
    new_year = call(ward, "2026-01-01 04:30:00", F, ConcernStatus.NEW, alert=45).id
    db.session.commit()
    london = {summer: local_facts(summer), new_year: local_facts(new_year)}
    assert london[new_year] == (date(2026, 1, 1), date(2026, 1, 1), 4, 4 * 3600 + 1800, THURSDAY)
    times = {summer: durations(summer), new_year: durations(new_year)}

    save_time_zone("America/New_York")
    # Before the commit, in the transaction that saves the zone: 19:30 EDT on Monday 30 June, in June;
    # 23:30 EST on Wednesday 31 December 2025, the year before.
    assert local_facts(summer) == (date(2025, 6, 30), date(2025, 6, 1), 19, 19 * 3600 + 1800, MONDAY)
    assert local_facts(new_year) == (date(2025, 12, 31), date(2025, 12, 1), 23, 23 * 3600 + 1800, WEDNESDAY)
    assert {summer: durations(summer), new_year: durations(new_year)} == times  # real time does not move
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "settings_changed").order_by(AuditEvent.id.desc()).limit(1)
    ).one()
    assert event.changes["fields"] == ["timezone"]

    db.session.rollback()  # not saved after all: the facts go back with the zone
    assert {summer: local_facts(summer), new_year: local_facts(new_year)} == london

    save_time_zone("America/New_York")
    db.session.commit()
    assert local_facts(new_year) == (date(2025, 12, 31), date(2025, 12, 1), 23, 23 * 3600 + 1800, WEDNESDAY)
    assert current_settings().timezone == "America/New_York"
    assert report_facts.check() == (0, [])
    # A call raised after the change is in the new zone from the start: 00:30 BST would be 19:30 EDT.
    with time_machine.travel(utc("2025-06-30 23:30:00"), tick=False):
        later = raise_one(ward, submission="t" * 24, patient_name="Alex Smith").concern.id
    assert local_facts(later) == (date(2025, 6, 30), date(2025, 6, 1), 19, 19 * 3600 + 1800, MONDAY)


def test_a_time_zone_the_tz_database_does_not_know_is_refused_and_nothing_is_recomputed(ctx):
    ward = build_trust()["ward"]
    summer = call(ward, "2025-06-30 23:30:00", F, alert=30).id
    db.session.commit()
    before = local_facts(summer)
    for zone in ("Europe/Londno", "../../etc/passwd", ""):
        with pytest.raises(hospital.SetupProblem, match="time zone"):
            save_time_zone(zone)
    assert local_facts(summer) == before
    assert current_settings().timezone == "Europe/London"


# --- 5. finding and repairing wrong facts ---------------------------------------------------------


def corrupt(
    concern_id: int, wrong: str = "raised_local_hour = 5, raised_local_weekday = 4, to_first_alert_us = 1"
) -> None:
    """What a restore or a hand-made fix might leave: facts that disagree with the timestamps."""
    db.session.execute(text(f"UPDATE concern SET {wrong} WHERE id = :id"), {"id": concern_id})
    db.session.commit()


def test_check_finds_a_call_corrupted_by_a_raw_update_and_recompute_repairs_it(ctx):
    ward = build_trust()["ward"]
    good = call(ward, "2025-10-26 01:30:00", F, alert=20, ack=200).id
    bad = call(ward, "2025-10-26 00:30:00", F, alert=30, ack=300).id
    db.session.commit()
    assert report_facts.check() == (0, [])
    right = facts(bad)
    corrupt(bad)

    wrong, examples = report_facts.check()
    assert wrong == 1 and [example["id"] for example in examples] == [bad]
    assert examples[0]["found"] == {**right, "raised_local_hour": 5, "raised_local_weekday": 4, "to_first_alert_us": 1}
    assert examples[0]["expected"] == right
    assert report_facts.recompute() == 1
    db.session.commit()
    assert facts(bad) == right and facts(good)["raised_local_hour"] == 1
    assert report_facts.check() == (0, [])
    assert report_facts.recompute() == 0  # nothing left to rewrite


def test_check_and_recompute_read_every_batch(ctx):
    ward = build_trust()["ward"]
    ids = [call(ward, f"2025-07-{day:02d} 12:00:00", F, ack=60).id for day in range(1, 6)]
    db.session.commit()
    corrupt(ids[1])
    corrupt(ids[3], "to_acknowledge_us = 61000000")  # only a duration wrong
    wrong, examples = report_facts.check(batch_size=2, limit=1)
    assert wrong == 2 and [example["id"] for example in examples] == [ids[1]]
    assert report_facts.recompute(batch_size=2) == 2
    db.session.commit()
    assert report_facts.check(batch_size=2) == (0, [])
    assert facts(ids[3])["to_acknowledge_us"] == 60 * US


def test_the_report_facts_command_names_a_wrong_call_repairs_it_and_audits_the_repair(app, read):
    with app.app_context(), write_intent():
        ward = build_trust()["ward"]
        bad = call(ward, "2025-06-30 23:30:00", F, alert=30).id
        call(ward, "2025-12-31 23:59:59", F)
        db.session.commit()
        right = facts(bad)
        corrupt(bad)
        db.session.rollback()

    checked = run(app, "report-facts", "--check")
    assert checked.exit_code == 1, checked.output
    assert f"call {bad}: has " in checked.output and "1 call with report facts that disagree" in checked.output
    assert "Europe/London" in checked.output
    assert read.count(AuditEvent, AuditEvent.action == "report_facts_recomputed") == 0  # --check changes nothing

    fixed = run(app, "report-facts")
    assert fixed.exit_code == 0, fixed.output
    assert "Report facts rewritten for 1 call (time zone Europe/London)" in fixed.output
    event = read.one(AuditEvent, AuditEvent.action == "report_facts_recomputed")
    assert event.changes == {"calls": 1, "timezone": "Europe/London"}
    with app.app_context():
        assert facts(bad) == right
        assert audit.verify_chain().ok

    again = run(app, "report-facts", "--check")
    assert again.exit_code == 0, again.output
    assert "Every call's report facts agree with its timestamps" in again.output
    nothing = run(app, "report-facts")
    assert nothing.exit_code == 0 and "rewritten for 0 calls" in nothing.output
    assert read.count(AuditEvent, AuditEvent.action == "report_facts_recomputed") == 1  # no audit row for no change


# --- 7. the dashboard says when a call has no facts ----------------------------------------------


def test_a_call_without_facts_is_flagged_on_the_dashboard_until_they_are_recomputed(ctx):
    built = build_trust()
    concern_id = call(built["ward"], "2025-07-10 09:00:00", F).id
    db.session.commit()
    site = db.session.get(Site, built["site"].id)
    july = periods.Period(date(2025, 7, 1), date(2025, 7, 31))
    before = dashboard_figures.dashboard(site, july, current_settings())
    assert before.facts_missing is False and before.tally["calls"] == 1

    # As a call written by something that bypassed report_facts would be: no facts at all.
    db.session.execute(
        text(f"UPDATE concern SET {', '.join(f'{name} = NULL' for name in report_facts.ALL_FACTS)} WHERE id = :id"),
        {"id": concern_id},
    )
    db.session.commit()
    missing = dashboard_figures.dashboard(site, july, current_settings())
    assert missing.facts_missing is True and missing.tally["calls"] == 0  # left out of the figures, and said so

    assert report_facts.recompute() == 1
    db.session.commit()
    after = dashboard_figures.dashboard(site, july, current_settings())
    assert after.facts_missing is False and after.tally["calls"] == 1
