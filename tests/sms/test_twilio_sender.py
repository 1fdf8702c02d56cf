"""TwilioSender's handling of what Twilio can answer, which Prism cannot produce: 429, numbered
errors, 5xx, timeouts, refused and broken connections, and look-ups after an unclear send
(docs/architecture.md#messages).

Canned answers come from an in-process fake transport mounted on the SDK's own requests session,
so each request still passes through the real SDK and our redirecting client. Refused, stalled
and reset connections are real sockets on loopback."""

from __future__ import annotations

import json
import socket
import struct
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from requests.adapters import BaseAdapter
from urllib3.exceptions import MaxRetryError, NameResolutionError

from config import ConfigError
from tracker.sms import AmbiguousFailure, OutgoingSms, PermanentFailure, SendResult, TemporaryFailure, build_sender
from tracker.sms.twilio import ForeignHostRefused, RedirectedHttpClient, TwilioSender, build_client

ACCOUNT = "AC" + "0" * 32
FROM = "+447400900000"
TO = "+447400123456"
BASE = "http://127.0.0.1:9"  # never contacted: the fake transport answers
CREATED = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
BODY = "Martha's Rule: urgent review asked for on Ward 7B. Ref K7M-4PX."
MESSAGE = {
    "sid": "SM" + "1" * 32,
    "status": "queued",
    "to": TO,
    "body": BODY,
    "direction": "outbound-api",
    "date_created": format_datetime(CREATED + timedelta(seconds=2)),
}


class FakeTwilio(BaseAdapter):
    """Answers each request with the next canned answer: (status, JSON body or text) or an
    exception to raise. Records what it was sent."""

    def __init__(self):
        super().__init__()
        self.answers: list = []
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        status, body = answer
        response = requests.Response()
        response.status_code = status
        response._content = (body if isinstance(body, str) else json.dumps(body)).encode()
        response.headers["Content-Type"] = "application/json"
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass

    def form(self, index: int = -1) -> dict[str, list[str]]:
        return parse_qs(self.requests[index].body or "", keep_blank_values=True)

    def query(self, index: int = -1) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.requests[index].url).query, keep_blank_values=True)


def make_sender(base: str = BASE, timeout: float = 10, **settings) -> TwilioSender:
    config = {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": "token",
        "TWILIO_FROM_NUMBER": FROM,
        "TWILIO_API_BASE": base,
        "TWILIO_TIMEOUT_SECONDS": timeout,
        **settings,
    }
    return TwilioSender.from_config(config)


@pytest.fixture
def twilio() -> tuple[TwilioSender, FakeTwilio]:
    sender = make_sender()
    fake = FakeTwilio()
    sender.client.http_client.session.mount("http://", fake)
    return sender, fake


def sms(**changes) -> OutgoingSms:
    values = {"message_id": 1, "to": TO, "body": BODY, "idempotency_key": "k1", "created_at": CREATED}
    return OutgoingSms(**{**values, **changes})


def error(code: int, message: str = "refused") -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": 400}


# --- a send that works ---------------------------------------------------------------------------


def test_a_text_goes_to_twilio_with_our_number_a_short_validity_and_the_callback(twilio):
    sender, fake = twilio
    fake.answers.append((201, MESSAGE))
    assert sender.send(sms(status_callback="https://t.example/webhooks/twilio/status?m=1")) == SendResult(
        "SM" + "1" * 32, "queued"
    )
    request = fake.requests[0]
    assert request.method == "POST"
    assert request.url == f"{BASE}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Authorization"].startswith("Basic ")
    assert fake.form() == {
        "To": [TO],
        "From": [FROM],
        "Body": [BODY],
        "ValidityPeriod": ["600"],
        "StatusCallback": ["https://t.example/webhooks/twilio/status?m=1"],
    }


def test_a_voice_call_reads_the_message_listens_for_one_key_and_reports_progress(twilio):
    sender, fake = twilio
    fake.answers.append((201, {"sid": "CA" + "2" * 32, "status": "queued"}))
    result = sender.send(
        sms(
            channel="voice",
            body='Ward <7B> & "C". Press 1 to acknowledge.',
            status_callback="https://t.example/s?m=1",
            gather_url="https://t.example/v?m=1",
        )
    )
    assert result == SendResult("CA" + "2" * 32, "queued")
    form = fake.form()
    assert form["From"] == [FROM] and form["Timeout"] == ["30"]
    assert form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert form["Twiml"] == [
        '<Response><Gather action="https://t.example/v?m=1" method="POST" numDigits="1" timeout="10">'
        '<Say language="en-GB" loop="2" voice="Polly.Amy">Ward &lt;7B&gt; &amp; "C". Press 1 to acknowledge.</Say>'
        '</Gather><Say language="en-GB" voice="Polly.Amy">No key was pressed. Goodbye.</Say></Response>'
    ]


def test_a_voice_call_without_a_keypress_address_just_reads_the_message():
    twiml = TwilioSender.twiml(sms(channel="voice", body="Hello."))
    assert "Gather" not in twiml and '<Say language="en-GB" loop="2" voice="Polly.Amy">Hello.</Say>' in twiml


def test_voice_calls_come_from_the_voice_number_when_one_is_set():
    sender = make_sender(
        TWILIO_FROM_NUMBER=None, TWILIO_MESSAGING_SERVICE_SID="MG" + "0" * 32, TWILIO_VOICE_FROM_NUMBER="+442079460999"
    )
    fake = FakeTwilio()
    sender.client.http_client.session.mount("http://", fake)
    fake.answers += [(201, {"sid": "CA" + "3" * 32, "status": "queued"}), (201, MESSAGE)]
    sender.send(sms(channel="voice"))
    assert fake.form()["From"] == ["+442079460999"]
    sender.send(sms())
    assert fake.form()["MessagingServiceSid"] == ["MG" + "0" * 32] and "From" not in fake.form()


# --- what Twilio refuses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, body",
    [
        (429, error(20429, "Too Many Requests")),
        (429, "Too Many Requests"),  # not even JSON
        (400, error(21611, "This 'From' number has exceeded the maximum number of queued messages")),
    ],
)
def test_too_many_requests_is_safe_to_retry(twilio, status, body):
    sender, fake = twilio
    fake.answers.append((status, body))
    with pytest.raises(TemporaryFailure) as failure:
        sender.send(sms())
    assert failure.value.code in {"20429", "429", "21611"}
    assert "nothing was sent" in failure.value.reason


@pytest.mark.parametrize(
    "code, plain_words",
    [
        (21211, "This phone number is not valid"),
        (21610, "replied STOP"),
        (21614, "not a mobile number. Phone the caller instead."),
        (21635, "it is a landline"),
        (21408, "not allowed to text or call numbers in this country"),
        (21606, "Tell the system administrator"),
        (13224, "not valid for a phone call"),
    ],
)
def test_permanent_errors_end_the_message_with_a_reason_staff_can_act_on(twilio, code, plain_words):
    sender, fake = twilio
    fake.answers.append((400, error(code)))
    with pytest.raises(PermanentFailure) as failure:
        sender.send(sms())
    assert failure.value.code == str(code)
    assert plain_words in failure.value.reason
    assert "twilio.com/docs" not in failure.value.reason  # a known code needs no look-up


@pytest.mark.parametrize("code", [20003, 20005, 20008])
def test_refused_credentials_hold_the_message_and_raise_the_alarm(twilio, code):
    """A wrong or rotated token must not kill every queued alert: they wait (and retry) while an
    administrator fixes the settings, and the alarm tells staff to use the phone meanwhile."""
    sender, fake = twilio
    fake.answers.append((401, {"code": code, "message": "Authenticate", "status": 401}))
    with pytest.raises(TemporaryFailure) as failure:
        sender.send(sms())
    assert failure.value.code == str(code)
    assert failure.value.alarm == "sms_account_refused"
    assert "Tell the system administrator: the Twilio settings need fixing." in failure.value.reason


def test_an_unknown_refusal_is_permanent_and_points_to_twilios_page(twilio):
    sender, fake = twilio
    fake.answers.append((400, error(21999)))
    with pytest.raises(PermanentFailure) as failure:
        sender.send(sms())
    assert failure.value.code == "21999" and "twilio.com/docs/errors/21999" in failure.value.reason


def test_a_problem_details_refusal_is_understood_too(twilio):
    """The SDK turns RFC 9457 answers into TwilioServiceException, not TwilioRestException."""
    sender, fake = twilio
    fake.answers.append(
        (400, {"type": "https://www.twilio.com/docs/errors/21211", "title": "Invalid To", "status": 400, "code": 21211})
    )
    with pytest.raises(PermanentFailure) as failure:
        sender.send(sms())
    assert failure.value.code == "21211"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_may_have_sent_it(twilio, status):
    sender, fake = twilio
    fake.answers.append((status, {"code": 20500, "message": "Internal Server Error", "status": status}))
    with pytest.raises(AmbiguousFailure) as failure:
        sender.send(sms())
    assert "checked with Twilio before any resend" in failure.value.reason


def test_an_unreadable_success_may_have_sent_it(twilio):
    sender, fake = twilio
    fake.answers.append((201, "<html>proxy says hello</html>"))
    with pytest.raises(AmbiguousFailure):
        sender.send(sms())


def test_a_read_timeout_may_have_sent_it(twilio):
    sender, fake = twilio
    fake.answers.append(requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(AmbiguousFailure, match="did not answer in time"):
        sender.send(sms())


def test_a_failed_name_look_up_sent_nothing(twilio):
    sender, fake = twilio
    cause = NameResolutionError("api.twilio.com", None, socket.gaierror("Name or service not known"))
    fake.answers.append(requests.exceptions.ConnectionError(MaxRetryError(None, "/", cause)))
    with pytest.raises(TemporaryFailure, match="nothing was sent"):
        sender.send(sms())


# --- real sockets on loopback ------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A loopback server that reads a request, then stalls or resets the connection."""

    def __init__(self, behaviour: str):
        self.behaviour = behaviour
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.listener.accept()
        with conn:
            conn.recv(65536)
            self.received.set()
            if self.behaviour == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                self.done.wait(5)

    def close(self):
        self.done.set()
        self.thread.join(5)
        self.listener.close()


def test_a_refused_connection_sent_nothing():
    sender = make_sender(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(TemporaryFailure, match="nothing was sent"):
        sender.send(sms())


def test_no_answer_within_the_timeout_may_have_sent_it():
    server = Server("stall")
    try:
        sender = make_sender(f"http://127.0.0.1:{server.port}", timeout=0.3)
        with pytest.raises(AmbiguousFailure, match="did not answer in time"):
            sender.send(sms())
        assert server.received.is_set()
    finally:
        server.close()


def test_a_connection_reset_after_the_request_went_may_have_sent_it():
    server = Server("reset")
    try:
        sender = make_sender(f"http://127.0.0.1:{server.port}")
        with pytest.raises(AmbiguousFailure, match="broke after the request was sent"):
            sender.send(sms())
        assert server.received.is_set()
    finally:
        server.close()


# --- reconciling after an unclear send ---------------------------------------------------------------


def page(*records: dict, key: str = "messages") -> dict:
    return {
        key: list(records),
        "next_page_uri": "/2010-04-01/Accounts/x/Messages.json?Page=1",
        "page": 0,
        "page_size": 20,
        "uri": "/",
    }


def test_reconciling_finds_the_text_and_asks_for_one_bounded_page(twilio):
    sender, fake = twilio
    older_same_body = {**MESSAGE, "sid": "SM" + "9" * 32, "date_created": format_datetime(CREATED - timedelta(hours=1))}
    other_body = {**MESSAGE, "sid": "SM" + "8" * 32, "body": "something else"}
    fake.answers.append((200, page(other_body, {**MESSAGE, "status": "delivered"}, older_same_body)))
    assert sender.find_sent(sms()) == SendResult("SM" + "1" * 32, "delivered")
    assert len(fake.requests) == 1  # the next page is never fetched
    assert fake.query() == {"To": [TO], "DateSent>": ["2026-11-30T08:59:00Z"], "PageSize": ["20"]}


def test_reconciling_finds_nothing_so_the_worker_may_send(twilio):
    sender, fake = twilio
    inbound = {**MESSAGE, "direction": "inbound"}
    fake.answers.append((200, page(inbound, {**MESSAGE, "body": "another text"})))
    assert sender.find_sent(sms()) is None


def test_reconciling_a_database_time_without_a_zone_reads_it_as_utc(twilio):
    sender, fake = twilio
    fake.answers.append((200, page(MESSAGE)))
    assert sender.find_sent(sms(created_at=CREATED.replace(tzinfo=None))).sid == "SM" + "1" * 32
    assert fake.query()["DateSent>"] == ["2026-11-30T08:59:00Z"]


def test_reconciling_a_call_takes_the_latest_outbound_call_to_that_number(twilio):
    sender, fake = twilio
    call = {
        "sid": "CA" + "4" * 32,
        "status": "no-answer",
        "to": TO,
        "direction": "outbound-api",
        "date_created": format_datetime(CREATED + timedelta(seconds=1)),
    }
    later = {
        **call,
        "sid": "CA" + "5" * 32,
        "status": "ringing",
        "date_created": format_datetime(CREATED + timedelta(seconds=9)),
    }
    fake.answers.append(
        (200, page(call, later, {**later, "sid": "CA" + "6" * 32, "direction": "inbound"}, key="calls"))
    )
    assert sender.find_sent(sms(channel="voice")) == SendResult("CA" + "5" * 32, "ringing")
    assert fake.requests[0].url.split("?")[0].endswith("/Calls.json")
    assert fake.query()["StartTime>"] == ["2026-11-30T08:59:00Z"]


@pytest.mark.parametrize(
    "answer",
    [
        (500, {"code": 20500, "message": "Internal Server Error", "status": 500}),
        (429, {"code": 20429, "message": "Too Many Requests", "status": 429}),
        requests.exceptions.ReadTimeout("read timed out"),
        (200, "not json"),
    ],
)
def test_a_failed_look_up_raises_so_the_worker_tries_again_later(twilio, answer):
    sender, fake = twilio
    fake.answers.append(answer)
    with pytest.raises(AmbiguousFailure, match="Could not check with Twilio"):
        sender.find_sent(sms())


def test_a_look_up_to_an_unreachable_twilio_raises():
    sender = make_sender(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(AmbiguousFailure, match="could not be reached"):
        sender.find_sent(sms())


# --- the client and its configuration ---------------------------------------------------------------


def test_the_redirecting_client_refuses_any_host_but_twilios_api():
    client = RedirectedHttpClient("http://127.0.0.1:4010")
    assert client.session.trust_env is False
    for url in [
        "https://evil.example/2010-04-01/Accounts.json",
        "http://api.twilio.com/x",
        "https://api.twilio.com.evil.example/x",
        "https://messaging.twilio.com/v1/Services",
        "https://api.twilio.com:8443/x",
    ]:
        with pytest.raises(ForeignHostRefused):
            client.request("GET", url)


@pytest.mark.parametrize(
    "base",
    ["127.0.0.1:4010", "ftp://127.0.0.1", "http://127.0.0.1:4010/prefix", "http://127.0.0.1:4010/?x=1", "http://"],
)
def test_a_malformed_api_base_is_refused_at_start(base):
    with pytest.raises(ConfigError, match="TWILIO_API_BASE"):
        build_client(ACCOUNT, "token", timeout=10, api_base=base)


def test_without_an_api_base_the_sdk_talks_to_twilio_with_our_timeout():
    client = build_client(ACCOUNT, "token", timeout=7)
    assert type(client.http_client).__name__ == "TwilioHttpClient" and client.http_client.timeout == 7
    assert client.edge is None and client.region is None  # never read from the environment


@pytest.mark.parametrize(
    "settings, complaint",
    [
        ({"TWILIO_AUTH_TOKEN": None}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_FROM_NUMBER": None}, "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"),
        ({"TWILIO_VALIDITY_SECONDS": 36_001}, "TWILIO_VALIDITY_SECONDS"),
        ({"TWILIO_RING_SECONDS": 0}, "TWILIO_RING_SECONDS"),
    ],
)
def test_incomplete_settings_stop_the_app_at_start(settings, complaint):
    with pytest.raises(ConfigError, match=complaint):
        make_sender(**settings)


def test_the_app_builds_the_twilio_backend_from_its_configuration():
    app = Flask(__name__)
    app.config.update(
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT,
        TWILIO_AUTH_TOKEN="token",
        TWILIO_FROM_NUMBER=FROM,
        TWILIO_API_BASE=BASE,
        TWILIO_VALIDITY_SECONDS=300,
    )
    sender = build_sender(app)
    assert isinstance(sender, TwilioSender) and sender.name == "twilio" and sender.validity_seconds == 300
