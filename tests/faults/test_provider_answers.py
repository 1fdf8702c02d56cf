"""Twilio's answers that are not the usual JSON, permanent refusals, and delivery reports that race the
worker, with the worker as a real process sending through the real SDK to the fake Twilio (conftest.py,
fake_twilio.py)."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from tests.conftest import sign_in_directly
from tests.faults.conftest import DEADLINE, PEOPLE, settle, wait_for
from tests.faults.fake_twilio import ACCOUNT_SID, Answer
from tests.faults.helpers import (
    assert_each_accepted_message_reached_twilio_once,
    audit_changes,
    messages,
    raise_calls,
    steps_fired,
)
from tracker.extensions import db
from tracker.models import Audience, MessageEvent, SendState, SystemAlarm
from tracker.services.paging import warnings as staff_warnings
from tracker.sms.twilio_codes import PERMANENT_REASONS

PROXY_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
LOOKUP = ("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
BASE = "http://127.0.0.1:5000"  # the testing configuration's PUBLIC_BASE_URL


def final(rows) -> bool:
    return all(m.send_state in (SendState.ACCEPTED, SendState.CANCELLED, SendState.DEAD) for m in rows)


def run_until_final(app, clock, workers, rounds: int = 10) -> None:
    """Half a minute at a time (past each backoff), short of the next escalation step."""
    for _ in range(rounds):
        clock.advance(seconds=30)
        settle(app, workers, clock)
        if final(messages(app)):
            return


def reconciled_ids(app) -> set[int]:
    return {c["_object_id"] for c in audit_changes(app, "message_accepted") if c["reconciled"]}


def test_a_proxys_html_error_page_is_unclear_so_each_text_is_looked_up_and_sent_once(
    app, clock, twilio, workers, on_call
):
    # A proxy in front of Twilio answers both creates with its own HTML page: behind the first, Twilio had
    # created the alert; the receipt never reached it.
    twilio.answer_next(Answer(502, raw=PROXY_PAGE, created=True), Answer(502, raw=PROXY_PAGE, created=False))
    (call,) = raise_calls(app, on_call["ward"], 1)
    workers.start()
    settle(app, workers, clock)
    rows = messages(app)
    assert {m.send_state for m in rows} == {SendState.UNKNOWN}, [(m.id, m.send_state, m.error_reason) for m in rows]
    assert all("may or may not have been sent" in m.error_reason for m in rows)

    run_until_final(app, clock, workers)
    rows = {m.audience: m for m in messages(app)}
    assert {m.send_state for m in rows.values()} == {SendState.ACCEPTED}
    assert reconciled_ids(app) == {rows[Audience.CLINICIAN].id}  # found at Twilio: not sent again
    assert rows[Audience.FAMILY].attempts == 2  # looked up, not found, sent again
    assert twilio.requests.count(LOOKUP) == 2
    assert len(twilio.sent_to(call.family_number)) == 1 and len(twilio.sent_to(PEOPLE["primary"])) == 1
    assert_each_accepted_message_reached_twilio_once(list(rows.values()), twilio)


def test_an_unreadable_success_answer_is_looked_up_not_resent(app, clock, twilio, workers, on_call):
    # Twilio created the text, but the answer that came back (cut short, or rewritten by a proxy) is no JSON.
    twilio.answer_next(Answer(201, raw="<html><body>Request accepted", created=True))
    (call,) = raise_calls(app, on_call["ward"], 1)
    workers.start()
    settle(app, workers, clock)
    alert = next(m for m in messages(app) if m.audience is Audience.CLINICIAN)
    assert alert.send_state is SendState.UNKNOWN and "could not be read" in alert.error_reason

    run_until_final(app, clock, workers)
    rows = messages(app)
    assert {m.send_state for m in rows} == {SendState.ACCEPTED}
    assert reconciled_ids(app) == {alert.id}
    assert len(twilio.sent_to(PEOPLE["primary"])) == 1
    assert_each_accepted_message_reached_twilio_once(rows, twilio)
    assert call.reference in twilio.sent_to(call.family_number)[0].body


def test_a_number_twilio_refuses_fails_at_once_visibly_and_paging_moves_on(
    app, clock, twilio, workers, on_call, client
):
    # The primary's number is not a mobile (21614); the family's number is not valid at all (21211).
    twilio.answer_next(Answer(400, code=21614), Answer(400, code=21211))
    (call,) = raise_calls(app, on_call["ward"], 1)
    workers.start()
    settle(app, workers, clock)

    rows = messages(app, call.id)
    alert = next(m for m in rows if m.audience is Audience.CLINICIAN and m.to_number == PEOPLE["primary"])
    receipt = next(m for m in rows if m.audience is Audience.FAMILY)
    for message, code in ((alert, 21614), (receipt, 21211)):
        assert (message.send_state, message.attempts) == (SendState.DEAD, 1)  # never retried: it cannot work
        assert (message.error_code, message.error_reason) == (str(code), PERMANENT_REASONS[code])
    # Paging did not wait five minutes for an alert that can never arrive: the next step went at once.
    assert steps_fired(app, call.id)[:2] == [0, 1]
    assert {r.to for r in twilio.snapshot()} == {PEOPLE["secondary"], PEOPLE["lead"]}
    creates = twilio.creates
    clock.advance(minutes=2)
    settle(app, workers, clock)
    assert twilio.creates == creates  # nothing dead is tried again

    # The clinicians see it: the alarm on the queue, and both failures with their reasons on the failed
    # messages page.
    with app.app_context():
        assert db.session.query(SystemAlarm).filter_by(kind="alert_failed", cleared_at=None).count() == 1
    sign_in_directly(app, client, on_call["people"]["secondary"])
    staff_warnings.forget()
    page = client.get("/on-call/failed-messages")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for reason in (PERMANENT_REASONS[21614], PERMANENT_REASONS[21211]):
        assert reason.split(",")[0] in text, text[:3000]


def signed_status(client, app, message_id: int | None, **form: str):
    path = "/webhooks/twilio/status" + (f"?m={message_id}" if message_id is not None else "")
    signature = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(BASE + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def test_delivery_reports_before_the_send_is_recorded_out_of_order_or_for_no_message_change_nothing_wrongly(
    app, clock, twilio, workers, on_call, client
):
    held = twilio.hold_next()  # the alert is created at Twilio; its answer waits
    (call,) = raise_calls(app, on_call["ward"], 1)
    workers.start()
    assert held.arrived.wait(DEADLINE), workers.logs()
    alert = next(m for m in messages(app) if m.to_number == held.record.to)
    assert alert.send_state is SendState.SENDING

    # The handset reports delivery before the worker has the answer to its send.
    sid = held.record.sid
    delivered = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID, "To": held.record.to}
    assert signed_status(client, app, alert.id, **delivered).status_code in (200, 204)
    held.release()
    wait_for(
        lambda: next(m for m in messages(app) if m.id == alert.id).send_state is SendState.ACCEPTED,
        "the worker to record the held answer",
        workers=workers,
    )
    settle(app, workers, clock)

    # Then "sent" and "queued" arrive late, and a report for a text we never sent.
    for status in ("sent", "queued"):
        report = {"MessageSid": sid, "MessageStatus": status, "AccountSid": ACCOUNT_SID}
        assert signed_status(client, app, alert.id, **report).status_code in (200, 204)
    stranger = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID}
    assert signed_status(client, app, None, **stranger).status_code in (200, 204)

    recorded = next(m for m in messages(app) if m.id == alert.id)
    assert (recorded.send_state, recorded.provider_sid, recorded.delivery_status) == (
        SendState.ACCEPTED,
        sid,
        "delivered",  # the queued answer and the late reports never moved it back
    )
    assert [c["_object_id"] for c in audit_changes(app, "message_delivered")] == [alert.id]
    with app.app_context():
        kept = {(e.provider_sid, e.status, e.message_id) for e in db.session.query(MessageEvent)}
        db.session.rollback()
    assert {(sid, "delivered", alert.id), (sid, "sent", alert.id), ("SM" + "f" * 32, "delivered", None)} <= kept
    assert [r.sid for r in twilio.sent_to(held.record.to)] == [sid]
    assert call.reference in twilio.sent_to(call.family_number)[0].body
    assert_each_accepted_message_reached_twilio_once(messages(app), twilio)
