"""The real twilio SDK, driven by TwilioSender, against Prism mocking Twilio's REST API from
Twilio's OpenAPI description: every request must pass the description's checks (required
fields, formats, form encoding, Basic auth), and the app must make sense of the answers.

Prism answers with the description's examples, whatever was sent: a message `SMaaaa…` queued,
a call `CAaaaa…`, and lists dated 2019 to US numbers. The look-up tests use those examples."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from tracker.sms import OutgoingSms, PermanentFailure, SendResult
from tracker.sms.twilio import TwilioSender

SPEC = Path(__file__).resolve().parent / "twilio_api_v2010.prism.json"
SPEC_SHA256 = "dfc56213564e5895e358695b69a8977d806f73f230f4fba8aa6027827b84e9e0"
ACCOUNT = "AC" + "0" * 32
SERVICE = "MG" + "0" * 32
FROM = "+447400900000"
TO = "+447400123456"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def sender(prism_url: str, **settings) -> TwilioSender:
    config = {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": "contract-test-token",
        "TWILIO_FROM_NUMBER": FROM,
        "TWILIO_API_BASE": prism_url,
        **settings,
    }
    return TwilioSender.from_config(config)


def sent_form(twilio: TwilioSender) -> dict:
    """What the SDK last sent (its own test hook), after our client moved it to Prism."""
    request = twilio.client.http_client._test_only_last_request
    return {"url": request.url, "data": request.data}


def recorded(twilio: TwilioSender) -> list[dict]:
    """Every request the SDK makes from now on: method, URL and query parameters."""
    requests_made = []
    original = twilio.client.http_client.request

    def request(method, url, params=None, *args, **kwargs):
        requests_made.append({"method": method, "url": url, "params": params})
        return original(method, url, params, *args, **kwargs)

    twilio.client.http_client.request = request
    return requests_made


def outgoing(**changes) -> OutgoingSms:
    values = {
        "message_id": 7,
        "to": TO,
        "body": "Martha's Rule: urgent review asked for on Ward 7B. Ref K7M-4PX.",
        "idempotency_key": "concern:1:clinician_alert:1",
        "created_at": NOW,
    }
    return OutgoingSms(**{**values, **changes})


def test_the_api_description_is_the_one_recorded():
    """tests/contract/README.md records where the file came from and its sha256."""
    assert hashlib.sha256(SPEC.read_bytes()).hexdigest() == SPEC_SHA256


def test_prism_enforces_what_these_tests_rely_on(prism_url):
    """Without these checks the other tests would prove little."""
    url = f"{prism_url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    form = {"To": TO, "From": FROM, "Body": "hello"}
    session = requests.Session()
    session.trust_env = False
    assert session.post(url, data=form, auth=(ACCOUNT, "t"), timeout=10).status_code == 201
    assert session.post(url, data=form, timeout=10).status_code == 401  # no Basic auth
    assert session.post(url, json=form, auth=(ACCOUNT, "t"), timeout=10).status_code == 415  # not a form
    assert session.post(url, data={"From": FROM, "Body": "x"}, auth=(ACCOUNT, "t"), timeout=10).status_code == 422
    assert session.post(url, data={**form, "ValidityPeriod": "ten"}, auth=(ACCOUNT, "t"), timeout=10).status_code == 422


def test_a_text_from_our_number_is_accepted(prism_url):
    twilio = sender(prism_url)
    result = twilio.send(outgoing(status_callback="https://tracker.example.nhs.uk/webhooks/twilio/status?m=7"))
    assert result == SendResult("SM" + "a" * 32, "queued")
    sent = sent_form(twilio)
    assert sent["url"] == f"{prism_url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert sent["data"] == {
        "To": TO,
        "From": FROM,
        "Body": outgoing().body,
        "ValidityPeriod": 600,
        "StatusCallback": "https://tracker.example.nhs.uk/webhooks/twilio/status?m=7",
    }


def test_a_text_through_a_messaging_service_is_accepted(prism_url):
    twilio = sender(
        prism_url, TWILIO_FROM_NUMBER=None, TWILIO_MESSAGING_SERVICE_SID=SERVICE, TWILIO_VALIDITY_SECONDS=120
    )
    assert twilio.send(outgoing()) == SendResult("SM" + "a" * 32, "queued")
    data = sent_form(twilio)["data"]
    assert data["MessagingServiceSid"] == SERVICE and "From" not in data
    assert data["ValidityPeriod"] == 120 and "StatusCallback" not in data


def test_a_voice_call_with_a_keypress_is_accepted(prism_url):
    twilio = sender(prism_url, TWILIO_VOICE_FROM_NUMBER="+442079460999", TWILIO_RING_SECONDS=25)
    result = twilio.send(
        outgoing(
            channel="voice",
            body="Urgent review on Ward 7B & C. Reference K 7 M. Press 1 to acknowledge.",
            status_callback="https://tracker.example.nhs.uk/webhooks/twilio/status?m=7",
            gather_url="https://tracker.example.nhs.uk/webhooks/twilio/voice?m=7",
        )
    )
    assert result.sid == "CA" + "a" * 32 and result.delivery_status  # whatever the example's status is
    sent = sent_form(twilio)
    assert sent["url"].endswith(f"/Accounts/{ACCOUNT}/Calls.json")
    data = sent["data"]
    assert data["To"] == TO and data["From"] == "+442079460999" and data["Timeout"] == 25
    assert data["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert (
        '<Gather action="https://tracker.example.nhs.uk/webhooks/twilio/voice?m=7" method="POST" '
        'numDigits="1" timeout="10">' in data["Twiml"]
    )
    assert "Ward 7B &amp; C." in data["Twiml"]  # escaped by the SDK's VoiceResponse


def test_a_voice_call_without_a_number_to_call_from_is_refused_plainly(prism_url):
    twilio = sender(prism_url, TWILIO_FROM_NUMBER=None, TWILIO_MESSAGING_SERVICE_SID=SERVICE)
    with pytest.raises(PermanentFailure, match="No number is set up to place voice calls"):
        twilio.send(outgoing(channel="voice"))


def test_reconciling_finds_a_text_twilio_has(prism_url):
    """Prism's list example holds an outbound "testing" to +18182008801, created 24 May 2019."""
    twilio = sender(prism_url)
    made = recorded(twilio)
    found = twilio.find_sent(
        outgoing(to="+18182008801", body="testing", created_at=datetime(2019, 5, 24, 17, 44, 30, tzinfo=UTC))
    )
    assert found == SendResult("SMded05904ccb347238880ca9264e8fe1c", "sent")
    first = made[0]
    assert (
        first["method"] == "GET"
        and first["url"] == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    )
    assert first["params"]["To"] == "+18182008801" and first["params"]["DateSent>"] == "2019-05-24T17:43:30Z"
    assert first["params"]["PageSize"] == 20
    # One page, never more: Prism's example list never ends (every page links to another).
    assert len(made) == 1


def test_reconciling_finds_nothing_when_twilio_has_no_such_text(prism_url):
    twilio = sender(prism_url)
    assert twilio.find_sent(outgoing()) is None  # different body, number and date


def test_reconciling_a_call_finds_the_outbound_call_to_that_number(prism_url):
    """Prism's call list: an outbound call to +13051913581 created 18 Oct 2019 17:00, then an
    inbound one."""
    twilio = sender(prism_url)
    made = recorded(twilio)
    found = twilio.find_sent(
        outgoing(channel="voice", to="+13051913581", created_at=datetime(2019, 10, 18, 16, 59, 30, tzinfo=UTC))
    )
    assert found == SendResult("CA" + "a" * 32, "completed")
    assert made[0]["url"].endswith(f"/Accounts/{ACCOUNT}/Calls.json")
    assert made[0]["params"]["To"] == "+13051913581" and made[0]["params"]["StartTime>"] == "2019-10-18T16:58:30Z"
    assert made[0]["params"]["PageSize"] == 20 and len(made) == 1
    # A call placed before our record was made is not ours.
    assert twilio.find_sent(outgoing(channel="voice", to="+13051913581")) is None
