"""Rotas and escalation (docs/architecture.md#paging): who is on call across the clock changes, and a call that
climbs the policy step by step until someone claims it."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from tests.conftest import build_trust, create_staff
from tests.services.test_concerns import raise_one
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import (
    AlertChannel,
    AuditEvent,
    Concern,
    Message,
    SendState,
    ShiftKind,
    SystemAlarm,
    Team,
    Tier,
    User,
)
from tracker.services.concerns import triage
from tracker.services.concerns.intake import Source
from tracker.services.paging import acks, escalation, rota
from tracker.services.paging.policy import DEFAULT_STEPS, PolicyProblem, StepSpec, save_policy
from tracker.services.records import audit

SITE_MANAGER = "+442079460999"


@pytest.fixture
def team_on_call(ctx, app):
    return build_team_on_call(app)


def build_team_on_call(app) -> dict:
    """A trust whose team has a primary, a secondary and a lead on call, and the default policy
    (primary; then secondary and lead; repeated once; then the site manager by voice). Call it
    inside an app context that may write."""
    built = build_trust()
    team_id = built["team"].id
    db.session.commit()
    people = {}
    for tier, mobile in (("primary", "07400 100001"), ("secondary", "07400 100002"), ("lead", "07400 100003")):
        user_id, _ = create_staff(app, "outreach", email=f"{tier}@test.invalid", team_ids=[team_id])
        with app.app_context(), write_intent():
            db.session.get(User, user_id).mobile = mobile.replace(" ", "").replace("07400", "+447400")
            db.session.commit()
        people[tier] = user_id
    team = db.session.get(Team, team_id)
    actor = audit.Actor.cli()
    for tier, user_id in people.items():
        rota.add_pattern(
            actor,
            team,
            tier=Tier(tier),
            name=f"{tier} days",
            start_local="00:00",
            shift_hours=24,
            anchor_date=date(2026, 1, 1),
            people=[user_id],
        )
    save_policy(
        actor,
        team,
        steps=DEFAULT_STEPS,
        repeat_times=1,
        fallback_name="Site manager",
        fallback_number=SITE_MANAGER,
        fallback_channel=AlertChannel.VOICE,
        fallback_wait_minutes=10,
    )
    db.session.commit()
    return {"team": team, "ward": built["ward"], "people": people}


def deliver_all():
    """The provider accepts every waiting text (as a working worker would)."""
    db.session.execute(
        update(Message)
        .where(Message.send_state == SendState.PENDING)
        .values(send_state=SendState.ACCEPTED, accepted_at=utcnow())
    )
    db.session.commit()


def pages(concern_id):
    """The escalation alerts only (not review reminders)."""
    return [row for row in alerts(concern_id) if row[0] is not None]


def alerts(concern_id):
    return db.session.execute(
        select(Message.escalation_step, Message.to_number, Message.channel, Message.template_id)
        .where(Message.concern_id == concern_id, Message.template_id != "family_receipt")
        .order_by(Message.id)
    ).all()


def steps_fired(concern_id):
    return [
        (e.changes["position"], e.changes["label"])
        for e in db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.concern_id == concern_id, AuditEvent.action == "escalation_step_fired")
            .order_by(AuditEvent.id)
        )
    ]


def tick_at(moment):
    with time_machine.travel(moment, tick=False):
        escalation.tick(moment)
        db.session.commit()


# --- the rota -------------------------------------------------------------------------------------


def test_a_day_night_pattern_follows_local_time_across_the_clock_changes(ctx, app):
    team_id = build_trust()["team"].id
    db.session.commit()
    day, _ = create_staff(app, "outreach", team_ids=[team_id])
    night, _ = create_staff(app, "outreach", team_ids=[team_id])
    team = db.session.get(Team, team_id)
    rota.add_pattern(
        audit.Actor.cli(),
        team,
        tier=Tier.PRIMARY,
        name="12-hour",
        start_local="08:00",
        shift_hours=12,
        anchor_date=date(2026, 3, 1),
        people=[day, night],
    )
    db.session.commit()
    # 08:00 and 20:00 London time, in winter (UTC+0) and in summer (UTC+1).
    cases = [
        (datetime(2026, 3, 10, 8, 30, tzinfo=UTC), day),  # 08:30 GMT
        (datetime(2026, 3, 10, 20, 30, tzinfo=UTC), night),
        (datetime(2026, 4, 10, 7, 30, tzinfo=UTC), day),  # 08:30 BST
        (datetime(2026, 4, 10, 6, 30, tzinfo=UTC), night),  # 07:30 BST: still the night shift
        (datetime(2026, 4, 10, 19, 30, tzinfo=UTC), night),  # 20:30 BST
    ]
    for moment, expected in cases:
        assert [p.user_id for p in rota.on_call(team.id, moment)[Tier.PRIMARY]] == [expected], moment
    night_before_change = rota.pattern_slot(rota_pattern(team.id), datetime(2026, 3, 28, 22, 0, tzinfo=UTC))
    assert night_before_change.ends_at - night_before_change.starts_at == timedelta(hours=11)  # clocks go forward


def rota_pattern(team_id):
    from tracker.models import RotaPattern

    return db.session.scalars(select(RotaPattern).where(RotaPattern.team_id == team_id)).first()


def test_an_override_replaces_the_patterns_person_and_an_extra_adds_one(team_on_call, app):
    team_id = team_on_call["team"].id
    db.session.commit()
    cover, _ = create_staff(app, "outreach", team_ids=[team_id])
    helper, _ = create_staff(app, "outreach", team_ids=[team_id])
    team = db.session.get(Team, team_id)
    now = utcnow()
    rota.add_shift(
        audit.Actor.cli(),
        team,
        tier=Tier.PRIMARY,
        user_id=cover,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
    )
    rota.add_shift(
        audit.Actor.cli(),
        team,
        tier=Tier.SECONDARY,
        user_id=helper,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
        kind=ShiftKind.EXTRA,
    )
    db.session.commit()
    people = rota.on_call(team.id, now)
    assert [p.user_id for p in people[Tier.PRIMARY]] == [cover]
    assert sorted(p.user_id for p in people[Tier.SECONDARY]) == sorted([team_on_call["people"]["secondary"], helper])
    later = rota.on_call(team.id, now + timedelta(hours=3))
    assert [p.user_id for p in later[Tier.PRIMARY]] == [team_on_call["people"]["primary"]]


def test_someone_on_call_without_a_mobile_cannot_be_alerted(team_on_call):
    user = db.session.get(User, team_on_call["people"]["primary"])
    user.mobile = "020 7946 0000"  # a landline
    db.session.commit()
    assert not rota.on_call(team_on_call["team"].id)[Tier.PRIMARY][0].can_be_alerted


def test_gaps_in_the_next_day_are_found(team_on_call, app):
    now = utcnow()
    team_id = team_on_call["team"].id
    assert rota.gaps(team_id, now, now + timedelta(hours=24)) == []
    for pattern in db.session.scalars(select(rota.RotaPattern).where(rota.RotaPattern.tier == Tier.PRIMARY)):
        rota.end_pattern(audit.Actor.cli(), pattern)
    db.session.commit()
    assert rota.gaps(team_id, now, now + timedelta(hours=24)) == [rota.Gap(now, now + timedelta(hours=24), "nobody")]
    # Cover for the next four hours by the lead, who has a mobile: the gap starts when it ends.
    rota.add_shift(
        audit.Actor.cli(),
        team_on_call["team"],
        tier=Tier.PRIMARY,
        user_id=team_on_call["people"]["lead"],
        starts_at=now,
        ends_at=now + timedelta(hours=4),
    )
    db.session.commit()
    assert rota.gaps(team_id, now, now + timedelta(hours=24)) == [
        rota.Gap(now + timedelta(hours=4), now + timedelta(hours=24), "nobody")
    ]
    db.session.get(User, team_on_call["people"]["lead"]).mobile = None
    db.session.commit()
    assert [g.reason for g in rota.gaps(team_id, now, now + timedelta(hours=24))] == ["no_mobile", "nobody"]


def test_shifts_outside_the_team_or_backwards_are_refused(team_on_call, app):
    db.session.commit()
    outsider, _ = create_staff(app, "outreach")
    now = utcnow()
    with pytest.raises(rota.RotaProblem, match="this team"):
        rota.add_shift(
            audit.Actor.cli(),
            team_on_call["team"],
            tier=Tier.PRIMARY,
            user_id=outsider,
            starts_at=now,
            ends_at=now + timedelta(hours=1),
        )
    with pytest.raises(rota.RotaProblem, match="end after it starts"):
        rota.add_shift(
            audit.Actor.cli(),
            team_on_call["team"],
            tier=Tier.PRIMARY,
            user_id=team_on_call["people"]["primary"],
            starts_at=now,
            ends_at=now - timedelta(hours=1),
        )


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"steps": []}, "at least one step"),
        ({"steps": [StepSpec((), AlertChannel.SMS, 5)]}, "at least one tier"),
        ({"steps": [StepSpec((Tier.PRIMARY,), AlertChannel.SMS, 0)]}, "wait between"),
        ({"repeat_times": 9}, "between 0 and 5"),
        ({"fallback_number": "999"}, "not a valid number"),
        ({"fallback_number": "020 7946 0999", "fallback_channel": AlertChannel.SMS}, "mobile to be texted"),
        ({"alert_accept_seconds": 5}, "30 to 600"),
    ],
)
def test_a_policy_that_cannot_work_is_refused(team_on_call, changes, message):
    values = {
        "steps": DEFAULT_STEPS,
        "repeat_times": 1,
        "fallback_name": "Site manager",
        "fallback_number": SITE_MANAGER,
        "fallback_channel": AlertChannel.VOICE,
        **changes,
    }
    with pytest.raises(PolicyProblem, match=message):
        save_policy(audit.Actor.cli(), team_on_call["team"], **values)


# --- escalation -------------------------------------------------------------------------------


def test_an_unclaimed_call_climbs_the_policy_to_the_voice_fallback(team_on_call):
    start = utcnow()
    concern_id = raise_one(team_on_call["ward"]).concern.id
    primary, secondary, lead = "+447400100001", "+447400100002", "+447400100003"
    assert [(s, n) for s, n, _c, _t in alerts(concern_id)] == [(0, primary)]
    for minutes in (5, 10, 15, 20, 30):
        tick_at(start + timedelta(minutes=minutes, seconds=1))
    sent = alerts(concern_id)
    assert [(s, n) for s, n, _c, _t in sent] == [
        (0, primary),
        (1, secondary),
        (1, lead),
        (2, primary),
        (3, secondary),
        (3, lead),
        (4, SITE_MANAGER),
        (5, SITE_MANAGER),
    ]
    assert [c.value for _s, n, c, _t in sent if n == SITE_MANAGER] == ["voice", "voice"]
    assert [t for _s, n, _c, t in sent if n == SITE_MANAGER] == ["voice_alert", "voice_alert"]
    assert steps_fired(concern_id) == [
        (0, "step 1, round 1"),
        (1, "step 2, round 1"),
        (2, "step 1, round 2"),
        (3, "step 2, round 2"),
        (4, "fallback"),
        (5, "fallback"),
    ]
    # Every alert is in the audit trail too, each tied to its message and the call.
    queued = db.session.scalars(
        select(AuditEvent).where(AuditEvent.concern_id == concern_id, AuditEvent.action == "message_queued")
    ).all()
    alert_ids = set(
        db.session.scalars(
            select(Message.id).where(Message.concern_id == concern_id, Message.escalation_step.is_not(None))
        )
    )
    assert {e.object_id for e in queued} >= alert_ids and len(alert_ids) == 8
    assert audit.verify_chain().ok


def test_nothing_fires_before_its_time(team_on_call):
    start = utcnow()
    concern_id = raise_one(team_on_call["ward"]).concern.id
    deliver_all()
    tick_at(start + timedelta(minutes=4, seconds=50))
    assert len(alerts(concern_id)) == 1


def test_a_claim_stops_paging_at_once(team_on_call):
    start = utcnow()
    concern_id = raise_one(team_on_call["ward"]).concern.id
    tick_at(start + timedelta(minutes=5, seconds=1))
    triage.claim(concern_id, db.session.get(User, team_on_call["people"]["secondary"]))
    db.session.commit()
    for minutes in (10, 20, 40):
        tick_at(start + timedelta(minutes=minutes, seconds=1))
    assert len(pages(concern_id)) == 3
    assert db.session.get(Concern, concern_id).next_escalation_at is None


def test_an_ack_pauses_paging_and_without_a_claim_it_resumes(team_on_call):
    start = utcnow()
    concern_id = raise_one(team_on_call["ward"]).concern.id
    deliver_all()
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        assert acks.pause(concern_id, "sms_ack", user_id=None, now=start + timedelta(minutes=2))
        db.session.commit()
    tick_at(start + timedelta(minutes=5, seconds=1))  # step 2 would have fired now
    assert len(alerts(concern_id)) == 1
    tick_at(start + timedelta(minutes=7, seconds=1))  # the pause is over and nobody claimed it
    assert [s for s, *_ in alerts(concern_id)] == [0, 1, 1]
    concern = db.session.get(Concern, concern_id)
    assert concern.status.value == "new" and concern.claimed_by_id is None  # an ACK never claims
    assert "escalation_paused" in [e.action for e in db.session.scalars(select(AuditEvent))]


def test_releasing_a_call_starts_paging_again(team_on_call):
    start = utcnow()
    concern_id = raise_one(team_on_call["ward"]).concern.id
    nurse = db.session.get(User, team_on_call["people"]["primary"])
    triage.claim(concern_id, nurse)
    db.session.commit()
    triage.release(concern_id, nurse, "Called to an arrest", db.session.get(Concern, concern_id).version)
    db.session.commit()
    tick_at(utcnow() + timedelta(seconds=1))
    assert [s for s, *_ in alerts(concern_id)] == [0, 1, 1]
    assert start


def test_an_alert_not_accepted_in_two_minutes_moves_escalation_on(team_on_call):
    start = utcnow()
    concern_id = raise_one(team_on_call["ward"]).concern.id  # the first alert stays pending: nothing sends
    tick_at(start + timedelta(minutes=1))
    assert len(alerts(concern_id)) == 1
    tick_at(start + timedelta(minutes=2, seconds=5))
    tick_at(start + timedelta(minutes=2, seconds=6))
    assert [s for s, *_ in alerts(concern_id)] == [0, 1, 1]
    assert "escalation_moved_on" in [e.action for e in db.session.scalars(select(AuditEvent))]


def test_an_alert_escalated_past_is_cancelled_not_sent_late(team_on_call, app, sms):
    from tracker.worker import Worker

    start = utcnow()
    concern_id = raise_one(team_on_call["ward"]).concern.id
    db.session.commit()
    tick_at(start + timedelta(minutes=5, seconds=1))
    db.session.rollback()
    with time_machine.travel(start + timedelta(minutes=5, seconds=2), tick=False):
        Worker(app, sender=sms).run_once()
    states = {
        (m.escalation_step, m.to_number): m.send_state
        for m in db.session.scalars(
            select(Message).where(Message.concern_id == concern_id, Message.escalation_step.is_not(None))
        )
    }
    db.session.rollback()
    assert states[(0, "+447400100001")] is SendState.CANCELLED
    assert states[(1, "+447400100002")] is SendState.ACCEPTED


def test_a_failed_alert_moves_escalation_on_at_once(team_on_call, app, sms):
    from tracker.sms import PermanentFailure
    from tracker.worker import Worker

    concern_id = raise_one(team_on_call["ward"]).concern.id
    db.session.commit()
    sms.fail_next(PermanentFailure("Not a mobile", code="21614"))
    Worker(app, sender=sms).run_once()  # the primary's alert dies
    Worker(app, sender=sms).run_once()  # so step 2 fires now, not in 5 minutes
    db.session.rollback()
    assert [s for s, *_ in alerts(concern_id)] == [0, 1, 1]
    assert "alert_failed" in db.session.scalars(select(SystemAlarm.kind)).all()


def test_nobody_on_call_skips_to_the_next_step_and_raises_the_alarm(team_on_call):
    for pattern in db.session.scalars(select(rota.RotaPattern)):
        if pattern.tier is Tier.PRIMARY:
            pattern.active = False
    db.session.commit()
    concern_id = raise_one(team_on_call["ward"]).concern.id
    assert [s for s, *_ in alerts(concern_id)] == [1, 1]
    assert "rota_gap" in db.session.scalars(select(SystemAlarm.kind)).all()


def test_the_policy_is_frozen_but_the_people_are_looked_up_when_each_step_fires(team_on_call, app):
    start = utcnow()
    concern_id = raise_one(team_on_call["ward"]).concern.id
    team_id = team_on_call["team"].id
    db.session.commit()
    newcomer, _ = create_staff(app, "outreach", team_ids=[team_id])
    db.session.get(User, newcomer).mobile = "+447400100077"
    rota.add_shift(
        audit.Actor.cli(),
        team_on_call["team"],
        tier=Tier.SECONDARY,
        user_id=newcomer,
        starts_at=start,
        ends_at=start + timedelta(hours=4),
    )
    # A policy edit after the call was raised does not change the call's steps.
    save_policy(
        audit.Actor.cli(),
        team_on_call["team"],
        steps=[StepSpec((Tier.LEAD,), AlertChannel.SMS, 30)],
        repeat_times=0,
        fallback_name="Site manager",
        fallback_number=SITE_MANAGER,
        fallback_channel=AlertChannel.VOICE,
    )
    db.session.commit()
    tick_at(start + timedelta(minutes=5, seconds=1))
    assert [n for s, n, *_ in alerts(concern_id) if s == 1] == ["+447400100077", "+447400100003"]


def test_a_claimed_call_not_reviewed_reminds_the_claimant_then_tells_the_next_tier(team_on_call):
    concern_id = raise_one(team_on_call["ward"]).concern.id
    deliver_all()
    primary = db.session.get(User, team_on_call["people"]["primary"])
    triage.claim(concern_id, primary)
    db.session.commit()
    raised = db.session.get(Concern, concern_id).raised_at
    tick_at(raised + timedelta(minutes=29))
    assert [t for *_r, t in alerts(concern_id) if t.startswith("review")] == []
    tick_at(raised + timedelta(minutes=30, seconds=1))
    tick_at(raised + timedelta(minutes=40, seconds=2))
    reminders = [(n, t) for _s, n, _c, t in alerts(concern_id) if t.startswith("review")]
    assert reminders == [
        ("+447400100001", "review_reminder"),
        ("+447400100002", "review_overdue"),
        ("+447400100003", "review_overdue"),
    ]
    concern = db.session.get(Concern, concern_id)
    assert concern.claimed_by_id == primary.id  # never taken away


def test_a_review_stops_the_reminders(team_on_call):
    from tracker.models import ReviewKind

    concern_id = raise_one(team_on_call["ward"]).concern.id
    primary = db.session.get(User, team_on_call["people"]["primary"])
    triage.claim(concern_id, primary)
    db.session.commit()
    triage.record_review(
        concern_id,
        primary,
        kind=ReviewKind.PHONE_ADVICE,
        findings="Fine",
        news2=None,
        version=db.session.get(Concern, concern_id).version,
    )
    db.session.commit()
    tick_at(utcnow() + timedelta(hours=1))
    assert not [t for *_r, t in alerts(concern_id) if t.startswith("review")]


@pytest.mark.postgres
def test_two_workers_on_postgres_fire_each_step_once(team_on_call, app):
    concern_ids = [
        raise_one(
            team_on_call["ward"],
            source=Source(device_id=f"tablet-{n}", address=f"10.0.0.{n}"),
            submission=f"{n}" * 24,
            worry_details=f"W{n}",
        ).concern.id
        for n in range(6)
    ]
    deliver_all()
    db.session.commit()
    # From after the last call was raised, so every call's second step is due however long raising took on a
    # loaded machine (from before it, the last calls' steps could still be a moment away), and none's third.
    moment = utcnow() + timedelta(minutes=5, seconds=1)
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            with app.app_context(), write_intent():
                barrier.wait(timeout=30)
                escalation.tick(moment)
                db.session.commit()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for concern_id in concern_ids:
        assert [s for s, *_ in alerts(concern_id)] == [0, 1, 1]
        assert [p for p, _ in steps_fired(concern_id)] == [0, 1]
    db.session.execute(update(Concern).values(next_escalation_at=None))
    db.session.commit()
