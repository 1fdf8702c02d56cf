"""Twilio's webhooks (docs/architecture.md#paging, #messages): signed or refused; delivery status only moves forward; STOP,
START, HELP and ACK; a family's reply lands on their call; a keypress pauses paging."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from tests.conftest import sign_in_directly
from tests.services.test_escalation import build_team_on_call
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import (
    Audience,
    AuditEvent,
    Concern,
    ConcernNote,
    Message,
    MessageChannel,
    MessageEvent,
    NoteKind,
    RecipientKind,
    SendState,
    SmsOptOut,
    SystemAlarm,
    Tier,
    User,
)
from tracker.services.concerns import caller_updates, triage
from tracker.services.messaging.notifications import queue_message
from tracker.services.paging import escalation
from tracker.services.records import audit

BASE = "http://127.0.0.1:5000"  # the testing configuration's PUBLIC_BASE_URL
PRIMARY = "+447400100001"
FAMILY = "+447400123456"  # the caller's mobile in the test intake


def signed_post(client, app, path, params, *, token=None, url=None, signature=None):
    """POST form `params` to `path` as Twilio would: signed over the public URL and the form."""
    token = token or app.config["TWILIO_AUTH_TOKEN"]
    if signature is None:
        signature = RequestValidator(token).compute_signature(url or BASE + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


@pytest.fixture
def paged(app):
    """A call raised on a team with people on call: the primary has been sent the first alert."""
    from tests.services.test_concerns import raise_one

    with app.app_context(), write_intent():
        team = build_team_on_call(app)
        concern = raise_one(team["ward"]).concern
        alert = db.session.scalar(
            select(Message).where(Message.concern_id == concern.id, Message.audience == Audience.CLINICIAN)
        )
        receipt = db.session.scalar(
            select(Message).where(Message.concern_id == concern.id, Message.audience == Audience.FAMILY)
        )
        for message, sid in ((alert, "SM" + "a" * 32), (receipt, "SM" + "b" * 32)):
            message.send_state, message.provider_sid, message.accepted_at = SendState.ACCEPTED, sid, utcnow()
        db.session.commit()
        return {
            "concern": concern.id,
            "reference": concern.reference,
            "alert": alert.id,
            "receipt": receipt.id,
            "people": team["people"],
        }


def status_params(sid, status, error_code=""):
    return {
        "MessageSid": sid,
        "MessageStatus": status,
        "ErrorCode": error_code,
        "AccountSid": "AC" + "0" * 32,
        "From": "+447700900001",
        "To": PRIMARY,
        "ApiVersion": "2010-04-01",
    }


def inbound_params(sender, body, sid="SM" + "c" * 32, **extra):
    return {
        "MessageSid": sid,
        "From": sender,
        "To": "+447700900001",
        "Body": body,
        "NumMedia": "0",
        "AccountSid": "AC" + "0" * 32,
        **extra,
    }


# --- signatures -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "forgery", ["wrong_token", "tampered_field", "other_url", "empty", "missing", "bare_question_mark"]
)
def test_a_forged_or_unsigned_webhook_is_refused_and_changes_nothing(app, client, read, paged, forgery):
    path = f"/webhooks/twilio/status?m={paged['alert']}"
    params = status_params("SM" + "a" * 32, "failed", "30003")
    validator = RequestValidator(app.config["TWILIO_AUTH_TOKEN"])
    if forgery == "wrong_token":
        response = signed_post(client, app, path, params, token="not-our-token")
    elif forgery == "tampered_field":
        signature = validator.compute_signature(BASE + path, {**params, "MessageStatus": "delivered"})
        response = signed_post(client, app, path, params, signature=signature)
    elif forgery == "other_url":
        response = signed_post(client, app, path, params, url=f"{BASE}/webhooks/twilio/status?m=999")
    elif forgery == "empty":
        response = signed_post(client, app, path, params, signature="")
    elif forgery == "missing":
        response = client.post(path, data=params)
    else:  # Werkzeug's full_path adds a bare "?"; Twilio never signs that URL
        bare = "/webhooks/twilio/inbound"
        response = signed_post(client, app, bare, inbound_params(FAMILY, "STOP"), url=BASE + bare + "?")
    assert response.status_code == 403
    assert read.count(MessageEvent) == 0
    assert read.count(SmsOptOut) == 0
    assert read.one(Message, Message.id == paged["alert"]).delivery_status is None


def test_a_webhook_without_a_query_is_signed_over_the_bare_path(app, client, read, paged):
    response = signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, "HELP"))
    assert response.status_code == 200
    assert read.count(MessageEvent) == 1


def test_webhooks_need_no_csrf_token_but_every_other_post_does(app, client, paged):
    response = signed_post(
        client, app, f"/webhooks/twilio/status?m={paged['alert']}", status_params("SM" + "a" * 32, "sent")
    )
    assert response.status_code == 204


# --- delivery status --------------------------------------------------------------------------------


def test_the_same_status_callback_three_times_is_kept_three_times_and_applied_once(app, client, read, paged):
    path = f"/webhooks/twilio/status?m={paged['receipt']}"
    for _ in range(3):
        assert signed_post(client, app, path, status_params("SM" + "b" * 32, "delivered")).status_code == 204
    message = read.one(Message, Message.id == paged["receipt"])
    assert message.delivery_status == "delivered"
    assert read.count(MessageEvent, MessageEvent.message_id == paged["receipt"]) == 3
    assert read.count(AuditEvent, AuditEvent.action == "message_delivered") == 1


def test_delivered_arriving_before_sent_leaves_delivered(app, client, read, paged):
    path = f"/webhooks/twilio/status?m={paged['receipt']}"
    for status in ("delivered", "sent", "queued"):
        signed_post(client, app, path, status_params("SM" + "b" * 32, status))
    assert read.one(Message, Message.id == paged["receipt"]).delivery_status == "delivered"


def test_a_failure_is_final(app, client, read, paged):
    path = f"/webhooks/twilio/status?m={paged['receipt']}"
    for status in ("undelivered", "delivered"):
        signed_post(client, app, path, status_params("SM" + "b" * 32, status, "30003" if status != "delivered" else ""))
    message = read.one(Message, Message.id == paged["receipt"])
    assert message.delivery_status == "undelivered"
    assert message.error_reason == "The phone was switched off or out of signal, so the text was not delivered."


def test_an_undelivered_alert_moves_escalation_on_at_once_and_raises_the_alarm(app, client, read, paged):
    before = read.one(Concern, Concern.id == paged["concern"]).next_escalation_at
    signed_post(
        client,
        app,
        f"/webhooks/twilio/status?m={paged['alert']}",
        status_params("SM" + "a" * 32, "undelivered", "30005"),
    )
    concern = read.one(Concern, Concern.id == paged["concern"])
    assert concern.next_escalation_at < before
    assert concern.next_escalation_at <= utcnow()
    assert read.count(SystemAlarm, SystemAlarm.kind == "alert_failed") == 1
    assert read.count(AuditEvent, AuditEvent.action == "escalation_moved_on") == 1
    alert = read.one(Message, Message.id == paged["alert"])
    assert alert.error_reason == "This number does not exist or is no longer in use. Check the number."


def test_an_unanswered_voice_alert_moves_escalation_on_without_an_alarm(app, client, read, paged):
    with app.app_context(), write_intent():
        alert = db.session.get(Message, paged["alert"])
        alert.channel = MessageChannel.VOICE
        alert.provider_sid = "CA" + "a" * 32
        db.session.commit()
    response = signed_post(
        client,
        app,
        f"/webhooks/twilio/status?m={paged['alert']}",
        {
            "CallSid": "CA" + "a" * 32,
            "CallStatus": "no-answer",
            "AccountSid": "AC" + "0" * 32,
            "To": PRIMARY,
            "From": "+447700900001",
            "CallDuration": "0",
        },
    )
    assert response.status_code == 204
    alert = read.one(Message, Message.id == paged["alert"])
    assert alert.delivery_status == "no-answer" and alert.error_reason == "Nobody answered the call."
    assert read.one(Concern, Concern.id == paged["concern"]).next_escalation_at <= utcnow()
    assert read.count(SystemAlarm) == 0


def test_a_report_for_a_message_we_never_sent_is_kept_and_ignored(app, client, read, paged):
    response = signed_post(client, app, "/webhooks/twilio/status?m=987654", status_params("SM" + "f" * 32, "delivered"))
    assert response.status_code == 204 and response.headers["X-Outcome"] == "unknown_message"
    assert read.one(MessageEvent).message_id is None


def test_a_report_settles_a_text_whose_outcome_was_unclear(app, client, read, paged):
    with app.app_context(), write_intent():
        receipt = db.session.get(Message, paged["receipt"])
        receipt.send_state, receipt.provider_sid = SendState.UNKNOWN, None
        db.session.commit()
    signed_post(client, app, f"/webhooks/twilio/status?m={paged['receipt']}", status_params("SM" + "e" * 32, "sent"))
    receipt = read.one(Message, Message.id == paged["receipt"])
    assert (receipt.send_state, receipt.provider_sid, receipt.delivery_status) == (
        SendState.ACCEPTED,
        "SM" + "e" * 32,
        "sent",
    )


def test_the_worker_recording_queued_after_a_faster_callback_does_not_move_the_status_back(app, paged):
    from tracker.outbox import delivery
    from tracker.sms import SendResult

    with app.app_context(), write_intent():
        receipt = db.session.get(Message, paged["receipt"])
        receipt.send_state, receipt.lease_owner, receipt.delivery_status = SendState.SENDING, "w1", "delivered"
        db.session.commit()
        delivery.record_outcome(paged["receipt"], "w1", "accepted", SendResult("SM" + "b" * 32, "queued"))
        db.session.commit()
        assert db.session.get(Message, paged["receipt"]).delivery_status == "delivered"


# --- texts sent to our number ----------------------------------------------------------------------


@pytest.mark.parametrize("body", ["STOP", "stop", " Stop. ", "UNSUBSCRIBE", "stopall", "End", "quit", "CANCEL"])
def test_stop_in_any_of_its_forms_opts_the_number_out_and_cancels_what_is_waiting(app, client, read, paged, body):
    with app.app_context(), write_intent():
        db.session.get(Message, paged["receipt"]).send_state = SendState.PENDING
        db.session.commit()
    response = signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, body))
    assert response.status_code == 200 and "<Message>" not in response.get_data(as_text=True)
    assert read.one(SmsOptOut, SmsOptOut.number == FAMILY).opted_out is True
    assert read.one(Message, Message.id == paged["receipt"]).send_state is SendState.CANCELLED


def test_start_opts_back_in(app, client, read, paged):
    signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, "STOP", sid="SM" + "1" * 32))
    signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, "START", sid="SM" + "2" * 32))
    assert read.one(SmsOptOut, SmsOptOut.number == FAMILY).opted_out is False
    assert [e.action for e in read.all(AuditEvent) if e.action.startswith("sms_opted")] == [
        "sms_opted_out",
        "sms_opted_in",
    ]


def test_twilios_own_opt_out_classification_is_honoured(app, client, read, paged):
    signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, "arrêt", OptOutType="STOP"))
    assert read.one(SmsOptOut, SmsOptOut.number == FAMILY).opted_out is True


def test_a_family_that_replied_stop_is_not_texted_again(app, client, read, paged, sms):
    from tracker.worker import Worker

    signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, "STOP"))
    with app.app_context(), write_intent():
        concern = db.session.get(Concern, paged["concern"])
        nurse = db.session.get(User, paged["people"]["primary"])
        triage.claim(concern.id, nurse)
        db.session.commit()
        # The clinician is told at once, and nothing is queued.
        with pytest.raises(triage.TriageProblem, match="texted STOP"):
            caller_updates.update_caller(concern.id, nurse, "update_team_coming")
        db.session.rollback()
    Worker(app, sender=sms).run_once()
    assert FAMILY not in [text.to for text in sms.sent]
    assert read.count(Message, Message.template_id == "update_team_coming") == 0


def test_help_gets_a_plain_answer_with_the_teams_number(app, client, paged):
    body = signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, "help")).get_data(as_text=True)
    assert "<Message>Martha's Rule texts from" in body.replace("&apos;", "'") and "Reply STOP" in body


def test_ack_from_the_paged_phone_pauses_paging_and_never_claims(app, client, read, paged):
    response = signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(PRIMARY, "ack"))
    body = response.get_data(as_text=True)
    assert paged["reference"] in body and "not claimed yet" in body
    concern = read.one(Concern, Concern.id == paged["concern"])
    assert concern.escalation_paused_until is not None and concern.escalation_paused_until > utcnow()
    assert concern.status.value == "new" and concern.claimed_by_id is None


def test_ack_with_a_reference_pauses_that_call(app, client, read, paged):
    signed_post(
        client,
        app,
        "/webhooks/twilio/inbound",
        inbound_params(PRIMARY, f"ACK {paged['reference'].replace('-', '').lower()}"),
    )
    assert read.one(Concern, Concern.id == paged["concern"]).escalation_paused_until is not None


def test_ack_and_then_no_claim_resumes_paging_after_the_pause(app, client, read, paged):
    start = utcnow()
    signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(PRIMARY, "ACK"))
    second_step = select(Message.id).where(Message.concern_id == paged["concern"], Message.escalation_step == 1)
    with app.app_context(), write_intent():
        paused_until = db.session.get(Concern, paged["concern"]).escalation_paused_until
        assert paused_until > start + timedelta(minutes=4)
        for moment in (start + timedelta(minutes=5), paused_until - timedelta(seconds=1)):  # step 2 was due at 5
            with time_machine.travel(moment, tick=False):
                escalation.tick(moment)
                db.session.commit()
        assert db.session.scalar(second_step.limit(1)) is None
        with time_machine.travel(paused_until + timedelta(seconds=1), tick=False):
            escalation.tick(paused_until + timedelta(seconds=1))
            db.session.commit()
        assert db.session.scalar(second_step.limit(1)) is not None


def test_an_ack_after_the_ceiling_says_paging_continues_not_paused(app, client, read, paged):
    start = utcnow()
    for minutes in (0, 4, 8):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            body = signed_post(
                client, app, "/webhooks/twilio/inbound", inbound_params(PRIMARY, "ACK", sid=f"SM{minutes:032d}")
            ).get_data(as_text=True)
            assert "paused for" in body
    with time_machine.travel(start + timedelta(minutes=10, seconds=5), tick=False):
        body = signed_post(
            client, app, "/webhooks/twilio/inbound", inbound_params(PRIMARY, "ACK", sid="SM" + "9" * 32)
        ).get_data(as_text=True)
    assert "paging continues" in body and "Claim it in the tracker" in body and "paused" not in body
    assert read.one(Concern, Concern.id == paged["concern"]).escalation_paused_until <= start + timedelta(minutes=10)


def test_ack_from_a_phone_that_was_not_paged_pauses_nothing(app, client, read, paged):
    body = signed_post(client, app, "/webhooks/twilio/inbound", inbound_params("+447400999999", "ACK")).get_data(
        as_text=True
    )
    assert "Nothing was paused" in body
    assert read.one(Concern, Concern.id == paged["concern"]).escalation_paused_until is None


def test_a_familys_reply_goes_on_their_open_call_flagged_for_the_clinician(app, client, read, paged):
    signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, "She is more confused now"))
    note = read.one(ConcernNote)
    assert (note.concern_id, note.kind, note.text, note.author_id) == (
        paged["concern"],
        NoteKind.CALLER_REPLY,
        "She is more confused now",
        None,
    )
    assert read.one(Concern, Concern.id == paged["concern"]).unread_reply is True
    replied = read.one(AuditEvent, AuditEvent.action == "caller_replied")
    assert replied.changes == {"note_id": note.id}  # the words are in the note, never in the audit trail


def test_the_same_reply_delivered_twice_is_added_once(app, client, read, paged):
    for _ in range(2):
        signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, "Still waiting"))
    assert read.count(ConcernNote) == 1


def test_a_text_from_an_unknown_number_becomes_a_text_in_call_and_its_event_keeps_no_words(app, client, read, paged):
    # Once dropped; now a text-in call (tests/webhooks/test_text_in.py), its words kept on the call only.
    signed_post(client, app, "/webhooks/twilio/inbound", inbound_params("+447400555555", "Who is this?"))
    assert read.count(ConcernNote) == 0
    text_in = read.one(Concern, Concern.callback_number == "+447400555555")
    assert text_in.worry_details == "Who is this?" and text_in.caller_route.value == "not_yet_known"
    event = read.one(MessageEvent)
    assert event.concern_id == text_in.id and "Who is this" not in str(event.payload)


def test_a_hostile_reply_is_stored_cleaned_and_shown_escaped(app, client, read, paged):
    body = "<script>alert(1)</script>\x00\x07 " + "x" * 5000
    assert signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, body)).status_code == 200
    note = read.one(ConcernNote)
    assert "\x00" not in note.text and "\x07" not in note.text and len(note.text) == 1600
    sign_in_directly(app, client, paged["people"]["primary"])
    page = client.get(f"/triage/c/{paged['reference']}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_reply_with_delete_or_c1_controls_keeps_the_familys_words_without_them(app, client, read, paged):
    # Forms refuse these characters; a text cannot be sent back to be corrected, so it is cleaned, never lost.
    body = "Mum\x7f is worse\x85 since\x9b[2J lunch"
    assert signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, body)).status_code == 200
    assert read.one(ConcernNote).text == "Mum is worse since[2J lunch"


def test_an_inbound_text_without_a_sender_is_a_clear_400(app, client, read, paged):
    params = inbound_params(FAMILY, "hello")
    del params["From"]
    assert signed_post(client, app, "/webhooks/twilio/inbound", params).status_code == 400
    assert read.count(MessageEvent) == 0


# --- the key pressed on a voice alert ----------------------------------------------------------------


def keypress(client, app, message_id, digits):
    path = f"/webhooks/twilio/voice?m={message_id}"
    return signed_post(
        client,
        app,
        path,
        {
            "CallSid": "CA" + "a" * 32,
            "Digits": digits,
            "From": "+447700900001",
            "To": PRIMARY,
            "AccountSid": "AC" + "0" * 32,
        },
    )


def test_pressing_1_on_a_voice_alert_pauses_paging(app, client, read, paged):
    response = keypress(client, app, paged["alert"], "1")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    words = response.get_data(as_text=True)
    assert "paused for 5 minutes" in words and "<Hangup" in words
    concern = read.one(Concern, Concern.id == paged["concern"])
    assert concern.escalation_paused_until is not None and concern.claimed_by_id is None
    assert read.one(MessageEvent).kind == "keypress"


def test_another_key_pauses_nothing(app, client, read, paged):
    assert "does nothing" in keypress(client, app, paged["alert"], "5").get_data(as_text=True)
    assert read.one(Concern, Concern.id == paged["concern"]).escalation_paused_until is None


def test_pressing_1_after_someone_claimed_the_call_says_it_is_no_longer_waiting(app, client, read, paged):
    with app.app_context(), write_intent():
        triage.claim(paged["concern"], db.session.get(User, paged["people"]["secondary"]))
        db.session.commit()
    assert "no longer waiting" in keypress(client, app, paged["alert"], "1").get_data(as_text=True)


def test_a_new_reply_is_flagged_in_the_queue_until_a_clinician_opens_the_call(app, client, read, paged):
    signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, "Please call me back"))
    sign_in_directly(app, client, paged["people"]["primary"])
    assert "New text from caller" in client.get("/triage/").get_data(as_text=True)
    page = client.get(f"/triage/c/{paged['reference']}").get_data(as_text=True)
    assert "New text from the caller" in page and "Please call me back" in page
    assert read.one(Concern, Concern.id == paged["concern"]).unread_reply is False
    assert "New text from caller" not in client.get("/triage/").get_data(as_text=True)
    assert "Texts from the caller" in client.get(f"/triage/c/{paged['reference']}").get_data(as_text=True)


def test_the_queue_shows_a_failed_alert_and_an_acknowledged_one(app, client, read, paged):
    signed_post(
        client, app, f"/webhooks/twilio/status?m={paged['alert']}", status_params("SM" + "a" * 32, "failed", "30008")
    )
    signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(PRIMARY, "ACK"))
    sign_in_directly(app, client, paged["people"]["secondary"])
    queue = client.get("/triage/").get_data(as_text=True)
    assert "Alert failed: next step paged" in queue and "Alert acknowledged, not claimed" in queue
    page = client.get(f"/triage/c/{paged['reference']}").get_data(as_text=True)
    assert "Paused until" in page


def test_a_clinician_paged_for_a_call_may_open_it_only_while_still_in_its_team(app, client, paged):
    from tracker.models import User

    primary = paged["people"]["primary"]
    sign_in_directly(app, client, primary)
    assert client.get(f"/triage/c/{paged['reference']}").status_code == 200
    with app.app_context(), write_intent():
        db.session.get(User, primary).teams = []  # moved to another job
        db.session.commit()
    assert client.get(f"/triage/c/{paged['reference']}").status_code == 404


def test_someone_alerted_from_outside_the_calls_team_sees_the_normal_404(app, client, paged):
    from tests.conftest import create_staff

    with app.app_context(), write_intent():
        other_site_manager, _ = create_staff(
            app, "manager", email="night@test.invalid", totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        )
        db.session.add(
            Message(
                concern_id=paged["concern"],
                audience=Audience.CLINICIAN,
                recipient_kind="user",
                recipient_user_id=other_site_manager,
                to_number="+447400100009",
                template_id="voice_alert",
                variables={},
                idempotency_key="fallback-test",
                escalation_step=4,
                send_state=SendState.ACCEPTED,
            )
        )
        db.session.commit()
    sign_in_directly(app, client, other_site_manager)
    assert client.get(f"/triage/c/{paged['reference']}").status_code == 404


@pytest.mark.parametrize(
    ("template_id", "texted"),
    [("update_review_done", True), ("update_please_call", False), ("update_team_coming", False)],
)
def test_a_delivered_update_is_counted_as_texted_never_as_the_caller_told(
    app, client, read, paged, template_id, texted
):
    with app.app_context(), write_intent():
        update = Message(
            concern_id=paged["concern"],
            audience=Audience.FAMILY,
            recipient_kind="caller",
            to_number=FAMILY,
            template_id=template_id,
            variables={},
            idempotency_key=f"update-{template_id}",
            send_state=SendState.ACCEPTED,
            provider_sid="SM" + "d" * 32,
            accepted_at=utcnow(),
        )
        db.session.add(update)
        db.session.commit()
        update_id = update.id
    path = f"/webhooks/twilio/status?m={update_id}"
    assert signed_post(client, app, path, status_params("SM" + "d" * 32, "delivered")).status_code == 204
    concern = read.one(Concern, Concern.id == paged["concern"])
    assert concern.caller_updated_at is None and concern.to_caller_updated_us is None
    assert (concern.caller_texted_at is not None) is texted


# --- opt-out words from a caller and from a clinician ------------------------------------------------


def test_a_caller_who_texts_cancel_is_flagged_on_the_call_and_sent_nothing_more(app, client, read, paged, sms):
    from tracker.worker import Worker

    signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, "Cancel"))
    concern = read.one(Concern, Concern.id == paged["concern"])
    assert concern.unread_reply is True and concern.status.value == "new"  # flagged, never withdrawn by the word
    assert read.count(AuditEvent, AuditEvent.action == "caller_opted_out") == 1
    sign_in_directly(app, client, paged["people"]["primary"])
    page = html.unescape(client.get(f"/triage/c/{paged['reference']}").get_data(as_text=True))
    assert "The caller texted CANCEL" in page and "ask whether they want to withdraw the call" in page
    with app.app_context(), write_intent():
        triage.claim(paged["concern"], db.session.get(User, paged["people"]["primary"]))
        db.session.commit()
        with pytest.raises(triage.TriageProblem, match="texted STOP or another opt-out word"):
            caller_updates.update_caller(
                paged["concern"], db.session.get(User, paged["people"]["primary"]), "update_team_coming"
            )
        db.session.rollback()
        # A text queued before the word arrived is stopped by the outbox itself.
        concern = db.session.get_one(Concern, paged["concern"])
        queue_message(
            concern=concern,
            audience=Audience.FAMILY,
            recipient_kind=RecipientKind.CALLER,
            to_number=FAMILY,
            template_id="update_team_coming",
            variables={"reference": concern.reference, "team_phone": "020 7946 0101"},
            locale="en",
            idempotency_key="queued-before-cancel",
            actor=audit.Actor.cli(),
        )
        db.session.commit()
    before = len(sms.sent)
    Worker(app, sender=sms).run_once()
    assert sms.texts_to(FAMILY) == [] and len(sms.sent) == before  # no attempt at all
    assert read.one(Message, Message.idempotency_key == "queued-before-cancel").send_state is SendState.CANCELLED


def test_a_clinicians_own_stop_counts_as_no_usable_mobile_and_the_queue_says_text_start(app, client, read, paged):
    from tracker.services.paging import rota

    signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(PRIMARY, "STOP"))
    with app.app_context():
        primary = db.session.get(User, paged["people"]["primary"])
        assert [p.can_be_alerted for p in rota.on_call(min(primary.team_ids))[Tier.PRIMARY]] == [False]
    assert read.count(SystemAlarm, SystemAlarm.kind == "staff_opted_out", SystemAlarm.cleared_at.is_(None)) == 1
    sign_in_directly(app, client, paged["people"]["secondary"])
    queue = html.unescape(client.get("/triage/").get_data(as_text=True))
    assert "replied STOP to the tracker's texts, so no alert can reach their phone" in queue
    assert "should text START to" in queue
    signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(PRIMARY, "START", sid="SM" + "e" * 32))
    assert read.count(SystemAlarm, SystemAlarm.kind == "staff_opted_out", SystemAlarm.cleared_at.is_(None)) == 0


# --- a text after the call ended -----------------------------------------------------------------------------


def close_the_call(app, paged) -> None:
    from tracker.models import CallerUpdateMethod, ConcernType, ReviewKind

    with app.app_context(), write_intent():
        nurse = db.session.get(User, paged["people"]["primary"])
        triage.claim(paged["concern"], nurse)
        db.session.commit()
        triage.record_review(
            paged["concern"],
            nurse,
            kind=ReviewKind.SEEN_ON_WARD,
            findings="Settled",
            news2=None,
            version=db.session.get(Concern, paged["concern"]).version,
        )
        db.session.commit()
        coding = triage.Coding(ConcernType.CLINICAL_CONCERN, True, None, (), CallerUpdateMethod.PHONE, utcnow())
        triage.close(paged["concern"], nurse, coding, "", db.session.get(Concern, paged["concern"]).version)
        db.session.commit()


def test_a_familys_text_after_the_call_closed_is_raised_on_the_queue_and_answered(app, client, read, paged):
    close_the_call(app, paged)
    alerts_before = read.count(Message, Message.audience == Audience.CLINICIAN)
    with time_machine.travel(utcnow() + timedelta(hours=2), tick=False):
        body = signed_post(
            client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, "She is worse again tonight")
        ).get_data(as_text=True)
    reply = html.unescape(body)
    assert paged["reference"] in reply and "If the patient is very unwell now: Press the red buzzer" in reply
    assert "020 7946 0101" in reply  # the team's number
    concern = read.one(Concern, Concern.id == paged["concern"])
    assert concern.status.value == "closed" and concern.unread_reply is True
    assert read.one(ConcernNote, ConcernNote.kind == NoteKind.CALLER_REPLY).text == "She is worse again tonight"
    assert read.count(AuditEvent, AuditEvent.action == "caller_follow_up_text") == 1
    assert read.count(Message, Message.audience == Audience.CLINICIAN) == alerts_before  # the chime, not paging

    sign_in_directly(app, client, paged["people"]["secondary"])
    queue = client.get("/triage/").get_data(as_text=True)
    assert f'data-follow-up="{paged["reference"]}"' in queue and "Follow-up text: call ended" in queue
    page = client.get(f"/triage/c/{paged['reference']}").get_data(as_text=True)
    assert "She is worse again tonight" in page and "Mark as read" in page
    assert read.one(Concern, Concern.id == paged["concern"]).unread_reply is True  # opening it is not enough
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(f"/triage/c/{paged['reference']}/follow-up-read", data={"csrf_token": token})
    assert read.one(Concern, Concern.id == paged["concern"]).unread_reply is False
    assert read.count(AuditEvent, AuditEvent.action == "follow_up_read") == 1
    assert "data-follow-up" not in client.get("/triage/").get_data(as_text=True)


def test_reopening_the_call_clears_its_follow_up_text(app, client, read, paged):
    close_the_call(app, paged)
    signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, "Worse again"))
    with app.app_context(), write_intent():
        triage.reopen(
            paged["concern"],
            db.session.get(User, paged["people"]["secondary"]),
            "Family texted: worse",
            db.session.get(Concern, paged["concern"]).version,
        )
        db.session.commit()
    assert read.one(Concern, Concern.id == paged["concern"]).unread_reply is False


def test_a_text_more_than_72_hours_after_the_call_ended_is_a_new_text_in_call(app, client, read, paged):
    close_the_call(app, paged)
    with time_machine.travel(utcnow() + timedelta(hours=73), tick=False):
        body = signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, "Worse again")).get_data(
            as_text=True
        )
    assert read.one(Concern, Concern.id == paged["concern"]).unread_reply is False  # not attached to the old call
    text_in = read.one(Concern, Concern.id != paged["concern"])
    assert text_in.caller_route.value == "not_yet_known" and text_in.worry_details == "Worse again"
    assert text_in.reference in html.unescape(body)


def test_no_automatic_reply_where_the_trust_does_not_text_relatives(app, client, read, paged):
    from tracker.models import Settings

    close_the_call(app, paged)
    with app.app_context(), write_intent():
        db.session.get(Settings, 1).text_relatives_allowed = False
        db.session.commit()
    from tracker.services.setup.settings import forget_settings

    forget_settings()
    body = signed_post(client, app, "/webhooks/twilio/inbound", inbound_params(FAMILY, "Worse")).get_data(as_text=True)
    assert "<Message>" not in body
    assert read.one(Concern, Concern.id == paged["concern"]).unread_reply is True  # still raised on the queue
