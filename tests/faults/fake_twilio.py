"""A stateful fake of the parts of Twilio's REST API the worker uses, on loopback, for the fault
tests (docs/architecture.md#testing).

It speaks what the real `twilio` SDK sends and parses: POST Messages.json / Calls.json with form
bodies and Basic auth (201 and a Twilio-shaped resource), and GET lists of Messages / Calls
filtered by `To` and `DateSent>` / `StartTime>` (the reconciliation look-up). It remembers every
text and call it accepted, so a test can count what reached the provider.

It can be told to fail as Twilio or the network can:
- `down()` / `up()`: stop listening (connections are refused), then listen again on the same port;
- `answer_next(...)`: the next creates get a status code (429, 500, a numbered error), with or
  without the message having been created;
- `hold_next()` / `hold(nth=...)`: a create is accepted and recorded, then its answer waits until
  the test releases it (slower than the client's timeout, or until the test kills the worker).

Times are the tracker's own clock (`tracker.clock.utcnow`), which the fault tests move forward
for this process and the worker alike."""

from __future__ import annotations

import base64
import json
import re
import secrets
import socketserver
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tracker.clock import utcnow

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fault-test-auth-token"
HOLD_LIMIT_SECONDS = 120  # a held answer is given up after this, so no thread outlives a test for long
_CREATE = re.compile(rf"^/2010-04-01/Accounts/{ACCOUNT_SID}/(Messages|Calls)\.json$")


@dataclass
class Record:
    """One text or call the fake accepted (what Twilio would have)."""

    sid: str
    kind: str  # "Messages" or "Calls"
    to: str
    sender: str | None
    body: str | None  # the text, or the call's TwiML
    created_at: datetime
    form: dict[str, list[str]]

    def resource(self) -> dict:
        stamp = format_datetime(self.created_at.astimezone(UTC), usegmt=True)
        common = {
            "sid": self.sid,
            "account_sid": ACCOUNT_SID,
            "to": self.to,
            "from": self.sender,
            "direction": "outbound-api",
            "date_created": stamp,
            "date_updated": stamp,
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/{self.kind}/{self.sid}.json",
        }
        if self.kind == "Calls":
            return {**common, "status": "queued", "start_time": None, "end_time": None, "duration": None}
        return {
            **common,
            "body": self.body,
            "status": "queued",
            "date_sent": stamp,
            "num_segments": "1",
            "num_media": "0",
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "GBP",
            "messaging_service_sid": (self.form.get("MessagingServiceSid") or [None])[0],
        }


@dataclass
class Answer:
    """How to answer one create request: a status with Twilio's error body, and whether the
    text or call was created all the same (a 500 may or may not have)."""

    status: int
    code: int | None = None
    created: bool = False
    # A body that is not Twilio's JSON (a proxy's HTML error page, a truncated answer), sent as it is
    # whatever the status; `created` says whether Twilio made the text or call behind it.
    raw: str | None = None


ACCEPT = Answer(201)  # in a list of answers: this one goes through as usual


@dataclass
class Hold:
    """A create that is accepted and recorded, whose answer waits for `release()`."""

    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    record: Record | None = None

    def release(self) -> None:
        self.released.set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):  # no reverse DNS look-up of our own address (HTTPServer does one)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class FakeTwilio:
    def __init__(self):
        self.records: list[Record] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request answered
        self.creates = 0  # create requests received
        self.in_flight = 0
        self.most_in_flight = 0  # creates being answered at once (several workers sending)
        self.create_delay = 0.0  # seconds each create takes, to make overlapping senders visible
        self._answers: deque[Answer | Hold] = deque()
        self._holds: dict[int, Hold] = {}  # by the number of the create request to hold
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.up()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- the test's controls -----------------------------------------------------------------

    def up(self) -> None:
        """Listen (again, on the same port after `down()`)."""
        if self._server is not None:
            return
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._server = _Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="fake-twilio"
        )
        self._thread.start()

    def down(self) -> None:
        """Stop listening: every connection is refused, as when the provider is unreachable."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self._server = self._thread = None

    def answer_next(self, *answers: Answer) -> None:
        with self._lock:
            self._answers.extend(answers)

    def hold_next(self) -> Hold:
        hold = Hold()
        with self._lock:
            self._answers.append(hold)
        return hold

    def hold(self, nth: int) -> Hold:
        """Hold the answer to the nth create request from now on (1 = the next)."""
        hold = Hold()
        with self._lock:
            self._holds[self.creates + nth] = hold
        return hold

    def close(self) -> None:
        with self._lock:
            holds = [*self._holds.values(), *(a for a in self._answers if isinstance(a, Hold))]
        for hold in holds:
            hold.release()
        self.down()

    # --- what it saw ---------------------------------------------------------------------------

    def sent_to(self, number: str) -> list[Record]:
        with self._lock:
            return [r for r in self.records if r.to == number]

    def by_sid(self) -> dict[str, Record]:
        with self._lock:
            return {r.sid: r for r in self.records}

    def snapshot(self) -> list[Record]:
        with self._lock:
            return list(self.records)

    # --- answering -----------------------------------------------------------------------------

    def _next_answer(self) -> Answer | Hold | None:
        with self._lock:
            self.creates += 1
            hold = self._holds.pop(self.creates, None)
            if hold is not None:
                return hold
            return self._answers.popleft() if self._answers else None

    def _create(self, kind: str, form: dict[str, list[str]]) -> Record:
        one = {name: values[0] for name, values in form.items() if values}
        prefix = "CA" if kind == "Calls" else "SM"
        record = Record(
            sid=prefix + secrets.token_hex(16),
            kind=kind,
            to=one.get("To", ""),
            sender=one.get("From"),
            body=one.get("Twiml") if kind == "Calls" else one.get("Body"),
            created_at=utcnow(),
            form=form,
        )
        with self._lock:
            self.records.append(record)
        return record

    def _list(self, kind: str, query: dict[str, list[str]]) -> dict:
        to = (query.get("To") or [None])[0]
        since_name = "StartTime>" if kind == "Calls" else "DateSent>"
        since = (query.get(since_name) or [None])[0]
        since_at = datetime.fromisoformat(since.replace("Z", "+00:00")) if since else None
        size = int((query.get("PageSize") or ["50"])[0])
        with self._lock:
            found = [
                r
                for r in self.records
                if r.kind == kind and (to is None or r.to == to) and (since_at is None or r.created_at >= since_at)
            ]
        found = sorted(found, key=lambda r: r.created_at, reverse=True)[:size]  # newest first, as Twilio
        uri = f"/2010-04-01/Accounts/{ACCOUNT_SID}/{kind}.json"
        return {
            kind.lower(): [r.resource() for r in found],
            "end": max(len(found) - 1, 0),
            "first_page_uri": f"{uri}?PageSize={size}&Page=0",
            "next_page_uri": None,
            "page": 0,
            "page_size": size,
            "previous_page_uri": None,
            "start": 0,
            "uri": f"{uri}?PageSize={size}&Page=0",
        }


def error_body(status: int, code: int | None) -> dict:
    code = code or {429: 20429, 401: 20003}.get(status, 20500 if status >= 500 else 21999)
    return {
        "code": code,
        "message": f"fake Twilio error {code}",
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeTwilio
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers across down()

    def log_message(self, *args):  # quiet
        pass

    def _authorised(self) -> bool:
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        return self.headers.get("Authorization") == expected

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timed out, or its process was killed)
            pass

    def _reply_raw(self, status: int, text: str) -> None:
        data = text.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass

    def do_POST(self):
        fake = self.fake
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
        match = _CREATE.match(path)
        with fake._lock:
            fake.requests.append(("POST", path))
        if not self._authorised():
            return self._reply(401, error_body(401, 20003))
        if not match or self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
            return self._reply(400, error_body(400, 21999))
        if not form.get("To"):
            return self._reply(400, error_body(400, 21604))
        with fake._lock:
            fake.in_flight += 1
            fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
        try:
            self._answer_create(match.group(1), form)
        finally:
            with fake._lock:
                fake.in_flight -= 1

    def _answer_create(self, kind: str, form: dict[str, list[str]]) -> None:
        fake = self.fake
        answer = fake._next_answer()
        if fake.create_delay:
            threading.Event().wait(fake.create_delay)
        if isinstance(answer, Answer) and (answer.status >= 300 or answer.raw is not None):
            if answer.created:
                fake._create(kind, form)
            if answer.raw is not None:
                return self._reply_raw(answer.status, answer.raw)
            return self._reply(answer.status, error_body(answer.status, answer.code))
        record = fake._create(kind, form)
        if isinstance(answer, Hold):
            answer.record = record
            answer.arrived.set()
            answer.released.wait(HOLD_LIMIT_SECONDS)
        self._reply(201, record.resource())

    def do_GET(self):
        fake = self.fake
        parts = urlsplit(self.path)
        with fake._lock:
            fake.requests.append(("GET", parts.path))
        if not self._authorised():
            return self._reply(401, error_body(401, 20003))
        match = _CREATE.match(parts.path)
        if not match:
            return self._reply(404, error_body(404, 20404))
        self._reply(200, fake._list(match.group(1), parse_qs(parts.query, keep_blank_values=True)))
