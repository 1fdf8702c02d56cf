"""Paging in the corner cases (docs/architecture.md#paging): a call that waits across a shift change pages the
people on call *now*, across the clock changes too; ACKs cannot hold paging for ever; a claimant who cannot be
reminded does not cost the next tier ten minutes.

The worker runs here with a controllable clock: each moment is reached with time_machine, and the worker's own
pass (send what is due, then fire what is due) runs at it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from tests.conftest import build_trust, create_staff
from tests.services.test_concerns import raise_one
from tracker.extensions import db
from tracker.models import AlertChannel, Audience, AuditEvent, Concern, Message, SystemAlarm, Team, Tier, User
from tracker.services.concerns import triage
from tracker.services.paging import acks, rota
from tracker.services.paging.policy import StepSpec, save_policy
from tracker.services.records import audit
from tracker.worker import Worker

LONDON = ZoneInfo("Europe/London")
SITE_MANAGER = "+442079460999"
DAY_NIGHT = ("day", "night")


def local_moment(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=LONDON).astimezone(UTC)


def build_day_and_night_team(app, *, steps=None, repeat_times=0, ack_pause=5, ack_ceiling=10) -> dict:
    """A team whose day shift runs 08:00-20:00 and night shift 20:00-08:00 (local time) at every
    tier, each person with a mobile; policy "step 1 primary, wait 5; step 2 secondary and lead"."""
    built = build_trust()
    team_id = built["team"].id
    db.session.commit()
    people: dict[str, int] = {}
    numbers: dict[str, str] = {}
    for index, (tier, shift) in enumerate((t, s) for t in ("primary", "secondary", "lead") for s in DAY_NIGHT):
        name = f"{shift}_{tier}"
        user_id, _ = create_staff(app, "outreach", email=f"{name}@test.invalid", team_ids=[team_id])
        numbers[name] = f"+4474002000{index:02d}"
        db.session.get(User, user_id).mobile = numbers[name]
        db.session.commit()  # create_staff writes in its own session: hold no write lock across it
        people[name] = user_id
    team = db.session.get(Team, team_id)
    actor = audit.Actor.cli()
    for tier in ("primary", "secondary", "lead"):
        rota.add_pattern(
            actor,
            team,
            tier=Tier(tier),
            name=f"{tier} days and nights",
            start_local="08:00",
            shift_hours=12,
            anchor_date=date(2026, 1, 1),
            people=[people[f"day_{tier}"], people[f"night_{tier}"]],
        )
    save_policy(
        actor,
        team,
        steps=steps
        or [
            StepSpec((Tier.PRIMARY,), AlertChannel.SMS, 5),
            StepSpec((Tier.SECONDARY, Tier.LEAD), AlertChannel.SMS, 5),
        ],
        repeat_times=repeat_times,
        fallback_name="Site manager",
        fallback_number=SITE_MANAGER,
        fallback_channel=AlertChannel.VOICE,
        ack_pause_minutes=ack_pause,
        ack_ceiling_minutes=ack_ceiling,
    )
    db.session.commit()
    return {"team": team, "ward": built["ward"], "people": people, "numbers": numbers}


@pytest.fixture
def day_and_night(ctx, app):
    return build_day_and_night_team(app)


def raise_at(moment: datetime, ward) -> int:
    with time_machine.travel(moment, tick=False):
        return raise_one(ward).concern.id


def worker_pass_at(app, sms, moment: datetime) -> None:
    """One pass of the worker (send what is due, then fire due steps and shift changes) at `moment`."""
    db.session.commit()
    with time_machine.travel(moment, tick=False):
        Worker(app, sender=sms).run_once()
    db.session.rollback()


def paged_numbers(concern_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(Message.to_number)
            .where(Message.concern_id == concern_id, Message.audience == Audience.CLINICIAN)
            .order_by(Message.id)
        )
    )


def audit_rows(concern_id: int, action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.concern_id == concern_id, AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )
    )


# --- a shift change while a call waits --------------------------------------------------------------

DAYS = {
    "a summer day": date(2026, 7, 1),
    "the day the clocks go back": date(2026, 10, 25),
    "the day the clocks go forward": date(2026, 3, 29),
}


@pytest.mark.parametrize("day", DAYS.values(), ids=DAYS.keys())
def test_a_call_raised_at_1959_pages_the_night_team_not_the_day_team_who_went_home(day_and_night, app, sms, day):
    n = day_and_night["numbers"]
    concern_id = raise_at(local_moment(day, 19, 59), day_and_night["ward"])
    assert paged_numbers(concern_id) == [n["day_primary"]]

    # 20:00 local (19:00 or 20:00 UTC by the season): the night primary is paged at once, not at the next step.
    worker_pass_at(app, sms, local_moment(day, 19, 59, 59))
    assert paged_numbers(concern_id) == [n["day_primary"]]
    worker_pass_at(app, sms, local_moment(day, 20, 0, 30))
    assert paged_numbers(concern_id) == [n["day_primary"], n["night_primary"]]

    # Step 2 at 20:04: whoever holds secondary and lead now.
    worker_pass_at(app, sms, local_moment(day, 20, 4, 1))
    assert paged_numbers(concern_id)[2:] == [n["night_secondary"], n["night_lead"]]
    assert n["day_secondary"] not in paged_numbers(concern_id) and n["day_lead"] not in paged_numbers(concern_id)

    # Nobody is paged twice for the shift change, however many passes follow.
    worker_pass_at(app, sms, local_moment(day, 20, 4, 30))
    assert len(paged_numbers(concern_id)) == 4


def test_the_audit_names_who_was_paged_by_user_and_tier_never_by_number(day_and_night, app, sms):
    day = date(2026, 7, 1)
    people = day_and_night["people"]
    concern_id = raise_at(local_moment(day, 19, 59), day_and_night["ward"])
    worker_pass_at(app, sms, local_moment(day, 20, 0, 30))
    worker_pass_at(app, sms, local_moment(day, 20, 4, 1))
    fired = [e.changes["paged"] for e in audit_rows(concern_id, "escalation_step_fired")]
    assert fired == [
        [f"primary:{people['day_primary']}"],
        [f"secondary:{people['night_secondary']}", f"lead:{people['night_lead']}"],
    ]
    (handover,) = audit_rows(concern_id, "escalation_handover_paged")
    assert handover.changes == {"paged": [f"primary:{people['night_primary']}"]}
    everything = [
        str(e.changes) for e in db.session.scalars(select(AuditEvent).where(AuditEvent.concern_id == concern_id))
    ]
    assert not [row for row in everything if "+44" in row or "07400" in row]


def test_an_ack_by_the_day_primary_does_not_hold_the_night_primarys_page(day_and_night, app, sms):
    day = date(2026, 7, 1)
    n, people = day_and_night["numbers"], day_and_night["people"]
    concern_id = raise_at(local_moment(day, 19, 58), day_and_night["ward"])
    with time_machine.travel(local_moment(day, 19, 59, 30), tick=False):
        assert acks.pause(concern_id, "sms_ack", user_id=people["day_primary"]) is not None
        db.session.commit()
    worker_pass_at(app, sms, local_moment(day, 20, 0, 30))
    assert paged_numbers(concern_id) == [n["day_primary"], n["night_primary"]]


def test_a_claimed_call_stays_with_its_claimant_across_the_shift_change(day_and_night, app, sms):
    day = date(2026, 7, 1)
    n, people = day_and_night["numbers"], day_and_night["people"]
    concern_id = raise_at(local_moment(day, 19, 58), day_and_night["ward"])
    with time_machine.travel(local_moment(day, 19, 59), tick=False):
        triage.claim(concern_id, db.session.get(User, people["day_primary"]))
        db.session.commit()
    for moment in (local_moment(day, 20, 0, 30), local_moment(day, 20, 10)):
        worker_pass_at(app, sms, moment)
    assert paged_numbers(concern_id) == [n["day_primary"]]
    assert db.session.get(Concern, concern_id).claimed_by_id == people["day_primary"]


def test_a_plan_stored_before_the_upgrade_is_re_resolved_at_its_next_step(day_and_night, app, sms):
    """Before, the plan froze the people on call: a call in flight across the upgrade must not keep
    paging the day team."""
    day = date(2026, 7, 1)
    n, people = day_and_night["numbers"], day_and_night["people"]
    concern_id = raise_at(local_moment(day, 19, 59), day_and_night["ward"])
    concern = db.session.get(Concern, concern_id)
    old_plan = dict(concern.escalation_plan)
    old_plan.pop("version")
    old_plan.pop("ack_ceiling_minutes")
    old_plan["steps"] = [
        {
            "tiers": ["primary"],
            "recipients": [
                {"user_id": people["day_primary"], "name": "Day", "number": n["day_primary"], "tier": "primary"}
            ],
            "channel": "sms",
            "wait": 5,
        },
        {
            "tiers": ["secondary", "lead"],
            "recipients": [
                {"user_id": people["day_secondary"], "name": "D", "number": n["day_secondary"], "tier": "secondary"},
                {"user_id": people["day_lead"], "name": "D", "number": n["day_lead"], "tier": "lead"},
            ],
            "channel": "sms",
            "wait": 5,
        },
    ]
    old_plan["next_tier"] = old_plan["steps"][1]["recipients"]
    concern.escalation_plan = old_plan
    db.session.commit()
    worker_pass_at(app, sms, local_moment(day, 20, 4, 1))
    first, *since = paged_numbers(concern_id)
    assert first == n["day_primary"]
    assert sorted(since) == sorted([n["night_primary"], n["night_secondary"], n["night_lead"]])  # none of the day team


def test_the_review_overdue_word_goes_to_whoever_holds_the_next_tier_when_it_fires(day_and_night, app, sms):
    day = date(2026, 7, 1)
    n, people = day_and_night["numbers"], day_and_night["people"]
    concern_id = raise_at(local_moment(day, 19, 20), day_and_night["ward"])
    with time_machine.travel(local_moment(day, 19, 21), tick=False):
        triage.claim(concern_id, db.session.get(User, people["day_primary"]))
        db.session.commit()
    worker_pass_at(app, sms, local_moment(day, 19, 50, 1))  # the team's target is 30 minutes: remind the claimant
    worker_pass_at(app, sms, local_moment(day, 20, 0, 2))  # 10 minutes later: tell the next tier, on shift now
    overdue = db.session.scalars(
        select(Message.to_number).where(Message.concern_id == concern_id, Message.template_id == "review_overdue")
    ).all()
    assert sorted(overdue) == sorted([n["night_secondary"], n["night_lead"]])


# --- ACKs cannot hold paging for ever ------------------------------------------------------------------------


def test_acking_every_four_minutes_holds_paging_no_longer_than_the_ceiling(day_and_night, app, sms):
    day = date(2026, 7, 1)
    n, people = day_and_night["numbers"], day_and_night["people"]
    start = local_moment(day, 10, 0)
    concern_id = raise_at(start, day_and_night["ward"])
    for minute in (1, 5, 9):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            held = acks.pause(concern_id, "sms_ack", user_id=people["day_primary"])
            db.session.commit()
        assert held is not None and held.until is not None
    assert held.until == start + timedelta(minutes=11)  # the ceiling: 10 minutes from the first ACK
    worker_pass_at(app, sms, start + timedelta(minutes=10, seconds=59))
    assert paged_numbers(concern_id) == [n["day_primary"]]
    worker_pass_at(app, sms, start + timedelta(minutes=11, seconds=1))
    assert paged_numbers(concern_id) == [n["day_primary"], n["day_secondary"], n["day_lead"]]
    with time_machine.travel(start + timedelta(minutes=13), tick=False):
        after = acks.pause(concern_id, "sms_ack", user_id=people["day_primary"])
        db.session.commit()
    assert after is not None and after.until is None  # paging continues
    concern = db.session.get(Concern, concern_id)
    assert concern.escalation_paused_until is None or concern.escalation_paused_until <= start + timedelta(minutes=11)
    assert [e.action for e in audit_rows(concern_id, "ack_after_ceiling")] == ["ack_after_ceiling"]


def test_someone_who_just_acknowledged_is_not_re_paged_by_a_repeat(ctx, app, sms):
    team = build_day_and_night_team(
        app,
        steps=[
            StepSpec((Tier.PRIMARY, Tier.SECONDARY), AlertChannel.SMS, 3),
            StepSpec((Tier.LEAD,), AlertChannel.SMS, 3),
        ],
        repeat_times=1,
    )
    n, people = team["numbers"], team["people"]
    start = local_moment(date(2026, 7, 1), 10, 0)
    concern_id = raise_at(start, team["ward"])
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        acks.pause(concern_id, "sms_ack", user_id=people["day_primary"])
        db.session.commit()
    worker_pass_at(app, sms, start + timedelta(minutes=6, seconds=1))  # step 2: the lead
    worker_pass_at(app, sms, start + timedelta(minutes=9, seconds=2))  # step 1 again: not the primary who ACKed
    assert paged_numbers(concern_id) == [n["day_primary"], n["day_secondary"], n["day_lead"], n["day_secondary"]]


def test_someone_who_just_acknowledged_is_paged_again_when_nobody_else_would_be(ctx, app, sms):
    team = build_day_and_night_team(app, steps=[StepSpec((Tier.PRIMARY,), AlertChannel.SMS, 3)], repeat_times=2)
    n, people = team["numbers"], team["people"]
    start = local_moment(date(2026, 7, 1), 10, 0)
    concern_id = raise_at(start, team["ward"])
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        acks.pause(concern_id, "sms_ack", user_id=people["day_primary"])
        db.session.commit()
    worker_pass_at(app, sms, start + timedelta(minutes=6, seconds=1))
    assert paged_numbers(concern_id) == [n["day_primary"], n["day_primary"]]


def test_a_policy_pause_longer_than_its_ceiling_is_refused(day_and_night):
    from tracker.services.paging.policy import PolicyProblem

    with pytest.raises(PolicyProblem, match="cannot be longer"):
        save_policy(
            audit.Actor.cli(),
            day_and_night["team"],
            steps=[StepSpec((Tier.PRIMARY,), AlertChannel.SMS, 5)],
            repeat_times=0,
            fallback_name="Site manager",
            fallback_number=SITE_MANAGER,
            fallback_channel=AlertChannel.VOICE,
            ack_pause_minutes=15,
            ack_ceiling_minutes=10,
        )


# --- a claimant who cannot be reminded ----------------------------------------------------------------------


def test_a_claimant_with_no_mobile_raises_the_alarm_and_the_next_tier_hears_at_the_reminders_time(
    day_and_night, app, sms
):
    day = date(2026, 7, 1)
    n, people = day_and_night["numbers"], day_and_night["people"]
    concern_id = raise_at(local_moment(day, 10, 0), day_and_night["ward"])
    claimant = db.session.get(User, people["day_primary"])
    claimant.mobile = None
    db.session.commit()
    with time_machine.travel(local_moment(day, 10, 1), tick=False):
        triage.claim(concern_id, db.session.get(User, people["day_primary"]))
        db.session.commit()
    worker_pass_at(app, sms, local_moment(day, 10, 30, 1))
    overdue = db.session.scalars(
        select(Message.to_number).where(Message.concern_id == concern_id, Message.template_id == "review_overdue")
    ).all()
    assert sorted(overdue) == sorted([n["day_secondary"], n["day_lead"]])
    assert "reminder_not_possible" in db.session.scalars(select(SystemAlarm.kind)).all()


# --- a reopened call -----------------------------------------------------------------------------------------


def closed_after_review(concern_id: int, nurse: User) -> None:
    from tracker.models import CallerUpdateMethod, ConcernType, ReviewKind

    triage.claim(concern_id, nurse)
    db.session.commit()
    triage.record_review(
        concern_id,
        nurse,
        kind=ReviewKind.SEEN_ON_WARD,
        findings="Settled",
        news2=None,
        version=db.session.get(Concern, concern_id).version,
    )
    db.session.commit()
    coding = triage.Coding(
        ConcernType.CLINICAL_CONCERN, True, None, (), CallerUpdateMethod.PHONE, datetime.now(UTC) - timedelta(seconds=5)
    )
    triage.close(concern_id, nurse, coding, "", db.session.get(Concern, concern_id).version)
    db.session.commit()


def test_a_reopened_call_gets_the_review_reminders_of_a_new_one_timed_from_its_reopening(day_and_night, app, sms):
    day = date(2026, 7, 1)
    n, people = day_and_night["numbers"], day_and_night["people"]
    concern_id = raise_at(local_moment(day, 9, 0), day_and_night["ward"])
    with time_machine.travel(local_moment(day, 9, 5), tick=False):
        closed_after_review(concern_id, db.session.get(User, people["day_primary"]))
    first = db.session.get(Concern, concern_id)
    clocks = (first.first_alert_sent_at, first.acknowledged_at, first.reviewed_at, first.caller_updated_at)
    reopened = local_moment(day, 14, 0)
    with time_machine.travel(reopened, tick=False):
        triage.reopen(concern_id, db.session.get(User, people["day_secondary"]), "Family texted: worse", first.version)
        db.session.commit()
    worker_pass_at(app, sms, reopened + timedelta(minutes=29))
    assert not reminders_sent(concern_id)
    worker_pass_at(app, sms, reopened + timedelta(minutes=30, seconds=1))
    assert reminders_sent(concern_id) == [("review_reminder", n["day_secondary"])]
    worker_pass_at(app, sms, reopened + timedelta(minutes=40, seconds=2))
    assert sorted(reminders_sent(concern_id)[1:]) == sorted(
        [("review_overdue", n["day_secondary"]), ("review_overdue", n["day_lead"])]
    )
    again = db.session.get(Concern, concern_id)
    assert again.reopened_at == reopened
    assert (again.first_alert_sent_at, again.acknowledged_at, again.reviewed_at, again.caller_updated_at) == clocks


def test_a_reopened_call_released_unclaimed_is_paged_from_the_policys_first_step(day_and_night, app, sms):
    day = date(2026, 7, 1)
    n, people = day_and_night["numbers"], day_and_night["people"]
    concern_id = raise_at(local_moment(day, 9, 0), day_and_night["ward"])
    worker_pass_at(app, sms, local_moment(day, 9, 5, 1))  # step 2 fired in the first episode
    with time_machine.travel(local_moment(day, 9, 6), tick=False):
        closed_after_review(concern_id, db.session.get(User, people["day_primary"]))
    secondary = db.session.get(User, people["day_secondary"])
    with time_machine.travel(local_moment(day, 14, 0), tick=False):
        triage.reopen(concern_id, secondary, "Family texted: worse", db.session.get(Concern, concern_id).version)
        db.session.commit()
        triage.release(concern_id, secondary, "Going to theatre", db.session.get(Concern, concern_id).version)
        db.session.commit()
    before = len(paged_numbers(concern_id))
    worker_pass_at(app, sms, local_moment(day, 14, 0, 5))
    assert paged_numbers(concern_id)[before:] == [n["day_primary"]]  # step 1 again, not the fallback


def reminders_sent(concern_id: int) -> list[tuple[str, str]]:
    return [
        (m.template_id, m.to_number)
        for m in db.session.scalars(
            select(Message)
            .where(Message.concern_id == concern_id, Message.template_id.in_(["review_reminder", "review_overdue"]))
            .order_by(Message.id)
        )
    ]


# --- clocks --------------------------------------------------------------------------------------------------


def test_a_review_reminder_is_not_the_calls_first_alert(day_and_night, app, sms):
    day = date(2026, 7, 1)
    people = day_and_night["people"]
    concern_id = raise_at(local_moment(day, 10, 0), day_and_night["ward"])
    with time_machine.travel(local_moment(day, 10, 0, 20), tick=False):
        triage.claim(concern_id, db.session.get(User, people["day_primary"]))  # before the alert went: cancelled
        db.session.commit()
    worker_pass_at(app, sms, local_moment(day, 10, 30, 1))  # the review reminder goes, and is accepted
    worker_pass_at(app, sms, local_moment(day, 10, 30, 2))
    assert [t for t, _n in reminders_sent(concern_id)] == ["review_reminder"]
    concern = db.session.get(Concern, concern_id)
    assert concern.first_alert_sent_at is None and concern.to_first_alert_us is None
