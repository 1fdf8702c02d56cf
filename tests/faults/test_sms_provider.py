"""The SMS provider fails while calls come in at night,
with the worker as a real process against the fake Twilio (conftest.py, fake_twilio.py).

The retry policy and the lease are production's defaults; the shared clock jumps forward, so a
ten-minute outage takes seconds."""

from __future__ import annotations

from tests.conftest import sign_in_directly
from tests.faults.conftest import DEADLINE, PEOPLE, SITE_MANAGER, settle, wait_for
from tests.faults.fake_twilio import ACCEPT, ACCOUNT_SID, Answer
from tests.faults.helpers import (
    assert_each_accepted_message_reached_twilio_once,
    audit_changes,
    claim,
    concern,
    messages,
    raise_calls,
    steps_fired,
)
from tracker.models import Audience, SendState
from tracker.services.alarms import ALARM_TEXT
from tracker.services.paging import warnings as staff_warnings

FALLBACK_POSITION = 4  # steps 0-3: the primary, then the secondary and the lead, twice; 4: the site manager


def final(rows) -> bool:
    return all(m.send_state in (SendState.ACCEPTED, SendState.CANCELLED, SendState.DEAD) for m in rows)


def test_provider_down_for_ten_minutes_at_night_then_back_sends_what_is_still_wanted_once(
    app, clock, twilio, workers, on_call, client
):
    twilio.down()
    claimed, unclaimed = raise_calls(app, on_call["ward"], 2)
    workers.start()
    sign_in_directly(app, client, on_call["people"]["primary"])

    for second in range(0, 600, 20):  # ten minutes without the provider
        settle(app, workers, clock)
        if second == 180:
            claim(app, claimed.id, on_call["people"]["secondary"])  # in the app: a colleague took it
        if second == 300:
            staff_warnings.forget()  # the banner is cached for a few seconds per process, across tests too
            rows = client.get("/triage/queue/rows").get_data(as_text=True)
            assert ALARM_TEXT["alert_not_sent"] in rows, rows  # the queue's banner says paging is failing
            assert "The message worker is not running" not in rows  # it is: the provider is what is down
            assert rows.count("Waiting to send") == 2  # the families' receipts, not yet sent
        clock.advance(seconds=20)
    settle(app, workers, clock)

    # Meanwhile escalation moved on at once past every step it could not send, to the site
    # manager, without paging the fallback again and again on every pass.
    assert twilio.snapshot() == []
    fired = steps_fired(app, unclaimed.id)
    assert fired[:5] == [0, 1, 2, 3, FALLBACK_POSITION] and len(fired) <= 6, fired
    assert {c["reason"] for c in audit_changes(app, "escalation_moved_on", unclaimed.id)} == {"alert_not_sent"}
    assert [m for m in messages(app) if m.send_state is SendState.DEAD] == []  # nothing given up

    twilio.up()
    for _ in range(30):  # the backoff (capped at five minutes) brings every retry round
        clock.advance(seconds=20)
        settle(app, workers, clock)
        if final(messages(app)):
            break

    rows = messages(app)
    assert [(m.id, m.send_state) for m in rows if m.send_state not in (SendState.ACCEPTED, SendState.CANCELLED)] == []
    assert_each_accepted_message_reached_twilio_once(rows, twilio)
    for call in (claimed, unclaimed):  # each family's receipt, once
        assert [r.body for r in twilio.sent_to(call.family_number)] == [
            m.body for m in rows if m.concern_id == call.id and m.audience is Audience.FAMILY
        ]
        assert call.reference in twilio.sent_to(call.family_number)[0].body
    # The claimed call's alerts, and the steps escalated past, were cancelled, not sent late: the
    # on-call clinicians got nothing after the outage; the site manager got the current call.
    assert [twilio.sent_to(number) for number in PEOPLE.values()] == [[], [], []]
    cancelled = {c["_object_id"]: c["reason"] for c in audit_changes(app, "message_cancelled")}
    alerts = [m for m in rows if m.audience is Audience.CLINICIAN]
    claimed_alerts = [m for m in alerts if m.concern_id == claimed.id]
    assert {m.send_state for m in claimed_alerts} == {SendState.CANCELLED}
    assert {cancelled[m.id] for m in claimed_alerts} <= {"claimed", "no_longer_wanted", "escalated_past"}
    position = concern(app, unclaimed.id).escalation_position
    for alert in (m for m in alerts if m.concern_id == unclaimed.id):
        if alert.escalation_step < position - 1:
            assert cancelled.get(alert.id) == "escalated_past", alert.id
    sent_alerts = [m for m in alerts if m.send_state is SendState.ACCEPTED]
    assert sent_alerts and {(m.concern_id, m.to_number, m.channel.value) for m in sent_alerts} == {
        (unclaimed.id, SITE_MANAGER, "voice")
    }


def test_an_answer_slower_than_the_timeout_is_reconciled_and_not_sent_twice(app, clock, twilio, workers, on_call):
    held = twilio.hold_next()  # the first text is created at Twilio, but its answer comes too late
    (call,) = raise_calls(app, on_call["ward"], 1)
    workers.start(TWILIO_TIMEOUT_SECONDS="1")
    assert held.arrived.wait(DEADLINE)
    alert = next(m for m in messages(app) if m.to_number == held.record.to)
    wait_for(lambda: state_of(app, alert.id) is SendState.UNKNOWN, "the worker to give up waiting", workers=workers)
    held.release()
    assert "did not answer in time" in next(m for m in messages(app) if m.id == alert.id).error_reason

    for _ in range(10):  # past the backoff: the worker looks the text up before any resend
        clock.advance(seconds=30)
        settle(app, workers, clock)
        if final(messages(app)):
            break

    reconciled = next(m for m in messages(app) if m.id == alert.id)
    assert reconciled.send_state is SendState.ACCEPTED and reconciled.provider_sid == held.record.sid
    assert [c["reconciled"] for c in audit_changes(app, "message_accepted") if c["_object_id"] == alert.id] == [True]
    assert ("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json") in twilio.requests
    assert [r.sid for r in twilio.sent_to(held.record.to)] == [held.record.sid]
    assert call.reference in held.record.body
    assert_each_accepted_message_reached_twilio_once(messages(app), twilio)


def state_of(app, message_id: int) -> SendState:
    return next(m for m in messages(app) if m.id == message_id).send_state


def test_a_busy_or_failing_provider_is_retried_safely_and_nothing_goes_twice(app, clock, twilio, workers, on_call):
    # In order: the first alert goes; the first receipt gets 429 (never processed); the second
    # alert gets a 500 although Twilio created it; the second receipt a 503 and was not created.
    twilio.answer_next(ACCEPT, Answer(429), Answer(500, created=True), Answer(503))
    first, second = raise_calls(app, on_call["ward"], 2)
    workers.start()
    for _ in range(6):  # three minutes at most: short of the next escalation step
        clock.advance(seconds=30)
        settle(app, workers, clock)
        if final(messages(app)):
            break

    rows = {(m.concern_id, m.audience): m for m in messages(app)}
    assert {m.send_state for m in rows.values()} == {SendState.ACCEPTED}
    reconciled = [c["_object_id"] for c in audit_changes(app, "message_accepted") if c["reconciled"]]
    assert reconciled == [rows[second.id, Audience.CLINICIAN].id]  # the 500: found at Twilio, not resent
    assert rows[first.id, Audience.FAMILY].attempts == 2  # the 429: simply sent again
    assert rows[second.id, Audience.FAMILY].attempts == 2  # the 503: looked up, not found, sent again
    assert twilio.requests.count(("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")) == 2
    assert [len(twilio.sent_to(call.family_number)) for call in (first, second)] == [1, 1]
    assert_each_accepted_message_reached_twilio_once(list(rows.values()), twilio)
