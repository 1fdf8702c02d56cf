"""Twilio's webhooks, correctly signed, with what Twilio never sends: a message id that is not ASCII digits, NUL in any
field, and one text delivered ten times at once (docs/architecture.md#messages). Never a 500: a report or a text is
kept as far as it can be read (NUL dropped, as every control character in a received text), and one text makes one
note however many times and however fast it arrives, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from twilio.request_validator import RequestValidator

from tests.conftest import live_server
from tests.webhooks import test_twilio_webhooks
from tests.webhooks.test_twilio_webhooks import BASE, FAMILY, inbound_params, signed_post, status_params
from tracker.models import AuditEvent, Concern, ConcernNote, Message, MessageEvent
from tracker.services.records.audit import verify_chain

ODD_IDS = ["²", "１２３", "١٢٣", "1" * 5000, "1e999", str(2**63), "-1", ""]
SID = "SM" + "d" * 32
RECEIPT_SID = "SM" + "b" * 32  # the family's receipt, as the paged fixture sent it

paged = test_twilio_webhooks.paged  # the fixture: a call raised and paged, its alert and receipt accepted


def nothing_stored_has_nul(read) -> bool:
    events = read.all(MessageEvent)
    notes = read.all(ConcernNote)
    return not any("\x00" in repr(vars(row)) for row in [*events, *notes])


def test_an_odd_message_id_on_a_status_report_or_a_keypress_matches_nothing_and_is_never_a_500(
    app, client, read, paged
):
    # One test for the lot: each case is a request, the set-up (a paged call) is what costs.
    for m in ODD_IDS:
        path = f"/webhooks/twilio/status?m={requests.utils.quote(m)}"
        response = signed_post(client, app, path, status_params(SID, "delivered"), url=BASE + path)
        assert response.status_code == 204, m
        path = f"/webhooks/twilio/voice?m={requests.utils.quote(m)}"
        response = signed_post(client, app, path, {"Digits": "1", "CallSid": "CA" + "a" * 32}, url=BASE + path)
        assert response.status_code == 200 and response.mimetype == "application/xml", m
    assert read.one(Message, Message.id == paged["alert"]).delivery_status is None
    assert read.one(Concern, Concern.id == paged["concern"]).escalation_paused_until is None


def test_nul_in_a_webhooks_address_is_refused_it_is_never_one_we_gave(app, client, read, paged):
    for path in ("/webhooks/twilio/status?m=%00", "/webhooks/twilio/voice?m=1%00"):
        response = signed_post(client, app, path, {"Digits": "1", "MessageStatus": "delivered"}, url=BASE + path)
        assert response.status_code == 400, path
    assert read.count(MessageEvent) == 0


def test_nul_in_any_field_of_a_status_report_or_a_keypress_is_dropped_never_a_500(app, client, read, paged):
    for field, value in status_params(RECEIPT_SID, "delivered").items():
        params = status_params(RECEIPT_SID, "delivered") | {field: value + "\x00"}
        response = signed_post(client, app, f"/webhooks/twilio/status?m={paged['receipt']}", params)
        assert response.status_code == 204, field
    for field in ("Digits", "CallSid", "AccountSid"):
        params = {"Digits": "1", "CallSid": "CA" + "a" * 32, "AccountSid": "AC" + "0" * 32}
        params[field] += "\x00"
        assert signed_post(client, app, f"/webhooks/twilio/voice?m={paged['alert']}", params).status_code == 200, field
    assert read.one(Message, Message.id == paged["receipt"]).delivery_status == "delivered"
    assert nothing_stored_has_nul(read)


def test_nul_in_any_field_of_a_received_text_is_dropped_and_the_text_kept(app, client, read, paged):
    fields = list(inbound_params(FAMILY, "Still waiting"))
    for n, field in enumerate(fields):
        params = inbound_params(FAMILY, "Still waiting", sid=f"SM{n:032d}")
        params[field] += "\x00"
        assert signed_post(client, app, "/webhooks/twilio/inbound", params).status_code == 200, field
    # Each text reached the family's call with their words (the MessageSid with NUL is a text of its own too).
    assert [note.text for note in read.all(ConcernNote)] == ["Still waiting"] * len(fields)
    assert nothing_stored_has_nul(read)


def test_a_received_text_whose_sender_is_only_nul_is_a_clear_400(app, client, read, paged):
    response = signed_post(client, app, "/webhooks/twilio/inbound", inbound_params("\x00", "hello"))
    assert response.status_code == 400 and read.count(MessageEvent) == 0


DELIVERIES = 10


def deliver_at_once(app, params: dict) -> list[int]:
    """The same signed text POSTed by ten threads at the same moment, to a threaded server."""
    path = "/webhooks/twilio/inbound"
    signature = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(BASE + path, params)
    start = threading.Barrier(DELIVERIES)

    def deliver(_n: int) -> int:
        session = requests.Session()
        session.trust_env = False
        start.wait(timeout=60)
        return session.post(base + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=60).status_code

    with live_server(app) as base, ThreadPoolExecutor(max_workers=DELIVERIES) as pool:
        return list(pool.map(deliver, range(DELIVERIES)))


def test_one_reply_delivered_ten_times_at_once_makes_exactly_one_note(app, read, paged):
    statuses = deliver_at_once(app, inbound_params(FAMILY, "She is worse", sid=SID))
    assert statuses == [200] * DELIVERIES
    assert read.count(ConcernNote) == 1
    assert read.count(MessageEvent, MessageEvent.kind == "inbound") == 1
    assert read.count(AuditEvent, AuditEvent.action == "caller_replied") == 1
    with app.app_context():
        assert verify_chain().ok


def test_one_text_from_a_stranger_delivered_ten_times_at_once_raises_one_call(app, read, paged):
    statuses = deliver_at_once(app, inbound_params("+447400555555", "Is anyone there?", sid=SID))
    assert statuses == [200] * DELIVERIES
    assert read.count(Concern, Concern.callback_number == "+447400555555") == 1
    assert read.count(MessageEvent, MessageEvent.kind == "inbound") == 1
