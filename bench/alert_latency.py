#!/usr/bin/env python3
"""Benchmark: how soon a family's concern reaches a clinician's phone (issue 4, "Speed").

A measurement, not a test: it prints figures and PASS/FAIL against the targets, and exits 0
even when a target is missed (it exits non-zero only when it could not measure at all).

It submits concerns at a steady rate through the web server and measures, for each one, the time
from the submission's HTTP response arriving at the client to the clinician alert's request
arriving at the SMS API. The worker sends through the real Twilio backend (the `twilio` SDK) to
Prism, which mocks Twilio's REST API from Twilio's own OpenAPI description. Prism does not say
when a request came, so a small reverse proxy in this process stands in front of it: it notes
the arrival time (time.perf_counter(), the clock the client uses too) and the To, Body and Twiml
of every POST to .../Messages.json or .../Calls.json, forwards the request to Prism and relays
its answer (with a fresh message SID: Prism answers every send with the same example SID, which
the outbox's unique provider_sid column would refuse).

For each database (SQLite: a fresh file in a temporary directory; PostgreSQL: a fresh database
bench_alert_<pid> on 127.0.0.1:5432, dropped at the end) it:

1. runs the migrations and `flask tracker seed-demo` with TRACKER_CONFIG=benchmark and
   SMS_BACKEND=twilio, TWILIO_API_BASE pointing at the proxy (dummy credentials);
2. starts `gunicorn -k sync -w 2` and the worker (`flask --app wsgi tracker worker`);
3. opens the form at /w/ngh-7b once (session cookie, device cookie, CSRF token), sends one
   submission and waits for its alert, so a broken chain fails loudly before any load;
4. submits at --rate per second (a fresh submission id and its own worry text each time) for a
   warm-up (not counted), then for --duration seconds, while GET /livez is timed alongside;
5. takes each concern's reference from the session cookie of its 303 answer (the confirmation
   page shows it from there), and matches it with the reference in the alert's link;
6. reports p50, p90, p99 and max of the latency, and how many concerns got exactly one
   immediate alert, from the proxy's records and from the outbox.

Usage (from the repository root):

    .venv/bin/python bench/alert_latency.py                          # both databases, 3/s for 60 s each
    .venv/bin/python bench/alert_latency.py --db sqlite --duration 20 --quiet-wait 0

See bench/README.md for what it prints.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py shadows the standard library's `queue` (used by concurrent.futures and others)
# for scripts run from this folder: take the folder off sys.path before importing anything else.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != _HERE]

import argparse  # noqa: E402
import base64  # noqa: E402
import contextlib  # noqa: E402
import http.client  # noqa: E402
import http.cookies  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
import zlib  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

# The shared helpers of bench/submit.py (gunicorn, CPU accounting, the databases, the form).
_spec = importlib.util.spec_from_file_location("bench_submit", _HERE / "submit.py")
sb = importlib.util.module_from_spec(_spec)
sys.modules["bench_submit"] = sb
_spec.loader.exec_module(sb)

BenchError = sb.BenchError
log = sb.log
REPO = sb.REPO
PYTHON = sb.PYTHON
WARD = sb.WARD
FORM_PATH = sb.FORM_PATH
LIVEZ_PATH = sb.LIVEZ_PATH

PRISM = REPO / "node_modules" / ".bin" / "prism"
PRISM_SPEC = REPO / "tests" / "contract" / "twilio_api_v2010.prism.json"
# Dummy Twilio settings: Prism checks the account SID's pattern and that Basic auth is present.
TWILIO_ACCOUNT_SID = "AC" + "0" * 32
TWILIO_AUTH_TOKEN = "0" * 32  # noqa: S105 (a mock's dummy token)
TWILIO_FROM_NUMBER = "+447700900000"  # Ofcom's drama range: never a real phone
SEND_PATH = re.compile(r"^/2010-04-01/Accounts/[^/]+/(Messages|Calls)\.json$")
REFERENCE_IN_LINK = re.compile(r"/triage/c/(MR-[0-9A-Z]{4}-[0-9A-Z]{2})\b")
SPOKEN_REFERENCE = re.compile(r"Reference ([0-9A-Z ]+?)\.")

TARGETS = {  # the targets, in ms
    "sqlite": {"p50": 100.0, "p99": 250.0},
    "postgres": {"p50": 25.0, "p99": 100.0},
}
DISTURBED_FOREIGN_CPU = sb.DISTURBED_FOREIGN_CPU


# --- the timestamping proxy in front of Prism -------------------------------------------------


@dataclass
class Arrival:
    """One POST to Messages.json or Calls.json as it reached the proxy."""

    t: float  # time.perf_counter() when the request line was read
    wall: float  # time.time() at the same moment
    kind: str  # "Messages" or "Calls"
    to: str
    body: str  # the text, or for a call the TwiML
    reference: str | None  # the concern reference in a clinician alert (link, or spoken on a call)
    status: int | None = None  # Prism's answer
    prism_ms: float | None = None  # how long Prism took to answer

    @property
    def is_alert(self) -> bool:
        return self.reference is not None


def alert_reference(kind: str, body: str) -> str | None:
    """The concern reference a clinician alert carries; None for anything else (family texts)."""
    if kind == "Calls":
        m = SPOKEN_REFERENCE.search(body)
        if m:
            letters = m.group(1).replace(" ", "")
            if letters.startswith("MR") and len(letters) == 8:
                return f"MR-{letters[2:6]}-{letters[6:]}"
        return None
    m = REFERENCE_IN_LINK.search(body)
    return m.group(1) if m else None


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.arrivals: list[Arrival] = []
        self.other_requests = 0  # look-ups and anything else passed through
        self.proxy_errors: list[str] = []

    def add(self, arrival: Arrival) -> None:
        with self.lock:
            self.arrivals.append(arrival)

    def snapshot(self) -> list[Arrival]:
        with self.lock:
            return list(self.arrivals)

    def first_alert(self, reference: str) -> Arrival | None:
        with self.lock:
            return next((a for a in self.arrivals if a.reference == reference), None)


HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "content-length", "host"}


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's requests session expects
    server: TimestampingProxy

    def parse_request(self) -> bool:
        # Called as soon as the request line has been read: the moment the request arrived.
        self.arrived_t, self.arrived_wall = time.perf_counter(), time.time()
        return super().parse_request()

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self._relay()

    def do_GET(self):  # noqa: N802
        self._relay()

    def _relay(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urllib.parse.urlsplit(self.path).path
        arrival = None
        if self.command == "POST" and (m := SEND_PATH.match(path)):
            form = dict(urllib.parse.parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
            kind = m.group(1)
            text = form.get("Twiml", "") if kind == "Calls" else form.get("Body", "")
            arrival = Arrival(self.arrived_t, self.arrived_wall, kind, form.get("To", ""), text,
                              alert_reference(kind, text))
            self.server.recorder.add(arrival)
        else:
            with self.server.recorder.lock:
                self.server.recorder.other_requests += 1
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        started = time.perf_counter()
        try:
            status, reason, answer_headers, answer = self._forward(body, headers)
        except (OSError, http.client.HTTPException) as exc:
            self.server.recorder.proxy_errors.append(f"{self.command} {path}: {exc!r}")
            status, reason, answer_headers, answer = 502, "Bad Gateway", [("Content-Type", "text/plain")], b"prism"
        if arrival is not None:
            arrival.status, arrival.prism_ms = status, 1000 * (time.perf_counter() - started)
            if 200 <= status < 300:
                answer = fresh_sid(answer)
        self.send_response_only(status, reason)
        for k, v in answer_headers:
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def _forward(self, body: bytes, headers: dict) -> tuple[int, str, list, bytes]:
        """To Prism over this thread's kept-alive connection (one retry on a stale one)."""
        for attempt in (1, 2):
            conn = getattr(self, "_upstream", None)
            if conn is None:
                conn = self._upstream = http.client.HTTPConnection("127.0.0.1", self.server.prism_port, timeout=30)
            try:
                conn.request(self.command, self.path, body=body or None, headers=headers)
                response = conn.getresponse()
                return response.status, response.reason, response.getheaders(), response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self._upstream = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def finish(self) -> None:
        super().finish()
        upstream = getattr(self, "_upstream", None)
        if upstream is not None:
            upstream.close()

    def log_message(self, *_args) -> None:
        pass


def fresh_sid(answer: bytes) -> bytes:
    """Prism answers every create with the spec's example; give each its own SID (same prefix,
    e.g. SM or CA), as Twilio would, wherever the example SID appears (sid, uri, ...)."""
    try:
        old = json.loads(answer)["sid"]
    except (ValueError, KeyError, TypeError):
        return answer
    if not isinstance(old, str) or len(old) != 34:
        return answer
    return answer.replace(old.encode(), (old[:2] + secrets.token_hex(16)).encode())


class TimestampingProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, prism_port: int):
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.prism_port = prism_port
        self.recorder = Recorder()
        self.thread = threading.Thread(target=self.serve_forever, name="sms-api-proxy", daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class Prism:
    """Prism on a free loopback port, in its own process group (stop() ends only that group)."""

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.port = sb.free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if not os.access(PRISM, os.X_OK):
            raise BenchError(f"Prism is not installed ({PRISM}): run `npm ci`")
        self.log_file = open(self.log_path, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(self.port), "-v", "warn", str(PRISM_SPEC)],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"Prism did not start (exit code {self.process.poll()}):\n{self.log_tail()}")
            time.sleep(0.1)

    def version(self) -> str:
        with contextlib.suppress(OSError, ValueError):
            package = REPO / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
            return json.loads(package.read_text())["version"]
        return "?"

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.process = None
        self.log_file.close()

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


# --- the databases ---------------------------------------------------------------------------------


class PostgresDatabase(sb.PostgresDatabase):
    def __init__(self):
        super().__init__()
        self.name = f"bench_alert_{os.getpid()}"
        self.url = f"postgresql+psycopg://{sb.PG_USER}@{sb.PG_HOST}:{sb.PG_PORT}/{self.name}"

    def query(self, sql: str, params=()) -> list[tuple]:
        with self._connect(self.name) as conn:
            return conn.execute(sql.replace("?", "%s"), params or None).fetchall()

    def listeners(self) -> int:
        """Connections whose last statement was the worker's LISTEN (idle, waiting for NOTIFY)."""
        with self._connect("postgres") as conn:
            return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query ILIKE 'LISTEN %%'",
                                (self.name,)).fetchone()[0]


class SqliteDatabase(sb.SqliteDatabase):
    def __init__(self, directory: Path):
        super().__init__(directory)
        self.path = directory / "tracker-alert-bench.db"
        self.url = f"sqlite:///{self.path}"

    def query(self, sql: str, params=()) -> list[tuple]:
        import sqlite3

        with contextlib.closing(sqlite3.connect(self.path, timeout=30)) as conn:
            return conn.execute(sql, params).fetchall()

    def listeners(self) -> int:
        return 0


def as_dict(value) -> dict:
    """A JSON column as the driver returns it (text on SQLite, already a dict on PostgreSQL)."""
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value) if value else {}
    except (TypeError, ValueError):
        return {}


# --- the worker processes --------------------------------------------------------------------------


class Workers:
    """`flask --app wsgi tracker worker` processes, each in its own process group."""

    def __init__(self, env: dict, count: int, workdir: Path, kind: str):
        self.env, self.count, self.workdir, self.kind = env, count, workdir, kind
        self.processes: list[subprocess.Popen] = []
        self.log_files = []

    def start(self) -> None:
        flask = str(sb.VENV_BIN / "flask") if (sb.VENV_BIN / "flask").exists() else "flask"
        for n in range(self.count):
            log_path = self.workdir / f"worker-{self.kind}-{n + 1}.log"
            log_file = open(log_path, "ab")  # noqa: SIM115
            self.log_files.append(log_file)
            self.processes.append(subprocess.Popen(
                [flask, "--app", "wsgi", "tracker", "worker"], cwd=REPO, env=self.env, stdin=subprocess.DEVNULL,
                stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True))
        time.sleep(0.5)
        for p in self.processes:
            if p.poll() is not None:
                raise BenchError(f"the worker exited with {p.returncode}:\n{self.log_tail()}")

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.poll() is None]

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.processes)

    def stop(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=5)
        self.processes = []
        for f in self.log_files:
            f.close()
        self.log_files = []

    def log_text(self) -> str:
        texts = []
        for path in sorted(self.workdir.glob(f"worker-{self.kind}-*.log")):
            with contextlib.suppress(OSError):
                texts.append(path.read_text(errors="replace"))
        return "\n".join(texts)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


# --- the family's side: submissions at a steady rate -----------------------------------------------


@dataclass
class Submission:
    n: int
    phase: str  # "preflight", "warm-up" or "measured"
    scheduled: float  # perf_counter() when it was due to be sent
    sent: float = 0.0
    answered: float = 0.0  # perf_counter() when the answer's status line and headers had arrived
    status: int | None = None
    reference: str | None = None
    error: str | None = None

    @property
    def response_ms(self) -> float:
        return 1000 * (self.answered - self.sent)


def session_reference(set_cookie_headers: list[str]) -> str | None:
    """The reference the confirmation page will show, from Flask's session cookie (signed, not
    encrypted: base64 JSON, zlib-compressed when it starts with a dot)."""
    for header in set_cookie_headers:
        cookie = http.cookies.SimpleCookie()
        with contextlib.suppress(http.cookies.CookieError):
            cookie.load(header)
        if "session" not in cookie:
            continue
        value = cookie["session"].value
        compressed = value.startswith(".")
        payload = value.lstrip(".").split(".")[0]
        try:
            data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            data = json.loads(zlib.decompress(data) if compressed else data)
            return data["last_submission"]["reference"]
        except (ValueError, KeyError, TypeError, zlib.error):
            return None
    return None


class Submitter:
    """Posts the family's form the way a browser that opened it once would (the same session and
    device cookies and CSRF token), each time with a fresh submission id and its own worry text,
    and notes when the 303 arrived and the reference it carries."""

    def __init__(self, port: int, hidden: dict, cookies: dict):
        self.port = port
        self.static = urllib.parse.urlencode([*sb.STATIC_ANSWERS, ("csrf_token", hidden["csrf_token"]),
                                              ("kiosk", hidden.get("kiosk", ""))])
        self.cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.nonce = secrets.token_hex(3)
        self.lock = threading.Lock()
        self.done: list[Submission] = []

    def submit(self, sub: Submission) -> Submission:
        body = self.static + "&" + urllib.parse.urlencode({
            "submission_id": secrets.token_urlsafe(24),
            "worry_details": f"Mum is breathing fast and not making sense ({self.nonce} {sub.phase} {sub.n}"
                             f" {secrets.token_hex(3)})",
        })
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            sub.sent = time.perf_counter()
            conn.request("POST", FORM_PATH, body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie})
            response = conn.getresponse()
            sub.answered = time.perf_counter()
            sub.status = response.status
            set_cookies = response.headers.get_all("Set-Cookie") or []
            page = response.read()
            if response.status == 303:
                sub.reference = session_reference(set_cookies)
                if sub.reference is None:
                    sub.error = "303 without a reference in the session cookie"
            else:
                errors = re.findall(r'<a href="#[^"]*">([^<]+)</a>', page.decode(errors="replace"))
                sub.error = f"answered {response.status}, not 303; errors on the page: {errors or '?'}"
        except (OSError, http.client.HTTPException) as exc:
            sub.answered = sub.answered or time.perf_counter()
            sub.error = f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
        with self.lock:
            self.done.append(sub)
        return sub


def steady(rate: float, duration: float, action, stop_at_error: bool = False) -> int:
    """Call action(n, scheduled_time) at `rate` per second for `duration` seconds, on a schedule
    (open loop: a slow answer does not delay the next request; up to 16 at once). Returns how
    many were started."""
    interval = 1.0 / rate
    count = max(1, round(duration * rate))
    start = time.perf_counter() + 0.05
    with ThreadPoolExecutor(max_workers=16, thread_name_prefix="client") as pool:
        futures = []
        for n in range(count):
            due = start + n * interval
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(action, n, due))
        for f in futures:
            f.result()
    return count


@dataclass
class LivezProbe:
    """GET /livez at a steady rate alongside the submissions: the same server's latency for a
    request that does no work, for context on a shared machine."""

    port: int
    rate: float
    times_ms: list[float] = field(default_factory=list)
    errors: int = 0

    def __post_init__(self):
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="livez", daemon=True)

    def _run(self) -> None:
        interval = 1.0 / self.rate
        due = time.perf_counter()
        while not self.stopping.is_set():
            due += interval
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                t = time.perf_counter()
                conn.request("GET", LIVEZ_PATH)
                response = conn.getresponse()
                elapsed = time.perf_counter() - t
                response.read()
                if response.status == 200:
                    self.times_ms.append(1000 * elapsed)
                else:
                    self.errors += 1
            except (OSError, http.client.HTTPException):
                self.errors += 1
            finally:
                conn.close()
            self.stopping.wait(max(0.0, due - time.perf_counter()))

    def start(self) -> None:
        if self.rate > 0:
            self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=15)


# --- CPU accounting over the measured window -------------------------------------------------------


class CpuWindow:
    """Machine CPU used by anything but ours (gunicorn, the workers, Prism, PostgreSQL backends and
    this process), and the workers' own CPU, over the measured window."""

    def __init__(self, pids_of):
        self.pids_of = pids_of

    def __enter__(self):
        self.pids = list(self.pids_of()) + [os.getpid()]
        self.before = {pid: sb.process_ticks(pid) for pid in self.pids}
        self.machine0 = sb.machine_ticks()
        return self

    def __exit__(self, *exc):
        pids = set(self.pids) | set(self.pids_of())
        after = {pid: sb.process_ticks(pid) for pid in pids}
        busy1, total1 = sb.machine_ticks()
        busy0, total0 = self.machine0
        self.deltas = {pid: (after[pid] - self.before.get(pid, 0)) / sb.CLK_TCK for pid in pids}
        ours = sum(self.deltas.values())
        total = (total1 - total0) / sb.CLK_TCK or 1
        self.foreign_pct = 100 * max(0.0, (busy1 - busy0) / sb.CLK_TCK - ours) / total
        self.seconds = total / len(os.sched_getaffinity(0))
        return False

    def cpu_of(self, pids) -> float:
        return sum(self.deltas.get(pid, 0.0) for pid in pids)


# --- one database's run ---------------------------------------------------------------------------


@dataclass
class DbReport:
    db: object
    submissions: list[Submission] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # references with no alert after the drain
    alerts_per_concern: dict[int, int] = field(default_factory=dict)  # alerts seen → concerns
    livez_ms: list[float] = field(default_factory=list)
    livez_errors: int = 0
    prism_ms: list[float] = field(default_factory=list)
    prism_statuses: dict[int, int] = field(default_factory=dict)
    family_texts: int = 0
    other_api_requests: int = 0
    proxy_errors: list[str] = field(default_factory=list)
    path: str = ""
    recipients: str = ""
    notify: str = ""
    foreign_pct: float | None = None
    worker_cpu_pct: float | None = None
    web_cpu_pct: float | None = None
    achieved_rate: float | None = None
    outbox: dict[str, int] = field(default_factory=dict)
    first_step_alerts: dict[int, int] = field(default_factory=dict)  # outbox alerts at the first step → concerns
    later_alerts: int = 0  # alerts for measured concerns after the drain window (the policy's next steps)
    flagged: int = 0
    log_errors: list[str] = field(default_factory=list)
    negative: int = 0


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0–100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def describe_path(db, reference: str) -> tuple[str, str]:
    """Which escalation path the concern's first alert took: the team's policy or, without one,
    the duty phone (tracker/services/escalation.py plan_for)."""
    rows = db.query("SELECT id, escalation_plan, escalation_position FROM concern WHERE reference = ?", (reference,))
    if not rows:
        return "?", "?"
    concern_id, plan, _position = rows[0]
    plan = as_dict(plan)
    messages = db.query("SELECT template_id, channel, to_number, recipient_role, escalation_step FROM message "
                        "WHERE concern_id = ? AND audience = ? ORDER BY id", (concern_id, "clinician"))
    if not messages:
        messages = db.query("SELECT template_id, channel, to_number, recipient_role, escalation_step FROM message "
                            "WHERE concern_id = ? AND template_id LIKE ? ORDER BY id", (concern_id, "%alert%"))
    steps = plan.get("steps") or [{}]
    first = steps[0]
    if plan.get("policy_id") is None:
        path = (f"no escalation policy for the ward's team: plan_for() pages the team's duty phone by SMS "
                f"(step 1, then every {first.get('wait', '?')} min until claimed)")
    else:
        path = (f"escalation policy {plan['policy_id']}: step 1 = {first.get('channel', '?')} to tier(s) "
                f"{', '.join(first.get('tiers', []))} ({len(first.get('recipients', []))} on call), "
                f"wait {first.get('wait', '?')} min")
    recipients = "; ".join(f"{m[0]} by {m[1]} to {m[2]} (step {m[4]})" for m in messages) or "none in the outbox"
    return path, recipients


def wait_for_alert(recorder: Recorder, reference: str, timeout: float) -> Arrival | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = recorder.first_alert(reference)
        if found is not None:
            return found
        time.sleep(0.05)
    return None


def run_database(db, opts, workdir: Path, proxy: TimestampingProxy) -> DbReport:
    report = DbReport(db)
    port = opts.port or sb.free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"RATELIMIT_STORAGE_URI", "TRUSTED_HOSTS", "PROXY_HOPS"} and not k.startswith("TWILIO_")}
    env.update({
        "TRACKER_CONFIG": "benchmark",
        "DATABASE_URL": db.url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TRACKER_INSTANCE_DIR": str(workdir),
        "SMS_BACKEND": "twilio",
        "TWILIO_API_BASE": proxy.base,
        "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": TWILIO_FROM_NUMBER,
        "WORKER_POLL_SECONDS": f"{opts.poll:g}",
        "PYTHONUNBUFFERED": "1",
    })
    log(f"\n=== {db.label}: {db.url} ===")
    db.create()
    for args in (("db", "upgrade"), ("tracker", "seed-demo")):
        done = sb.run_flask(env, *args)
        if done.returncode != 0:
            raise BenchError(f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    log("  migrated and seeded the demo trust")

    server = sb.Server(env, port, opts.web_workers, workdir / f"gunicorn-{db.kind}.log")
    workers = Workers(env, opts.sms_workers, workdir, db.kind)
    probe = None
    try:
        server.start()
        workers.start()
        log(f"  gunicorn -k sync -w {opts.web_workers} on 127.0.0.1:{port}; {opts.sms_workers} worker process(es) "
            f"(pids {workers.pids()}), WORKER_POLL_SECONDS={opts.poll:g}, SMS_BACKEND=twilio -> {proxy.base} -> "
            f"Prism :{proxy.prism_port}")
        hidden, cookies = sb.open_form(server.base)
        missing = [n for n in ("session", "mr_device") if n not in cookies]
        if missing:
            raise BenchError(f"GET {FORM_PATH} did not set the cookie(s) {missing}; got {sorted(cookies)}")
        submitter = Submitter(port, hidden, cookies)

        # One submission first: the whole chain must work before any load.
        first = submitter.submit(Submission(0, "preflight", time.perf_counter()))
        if first.error:
            raise BenchError(f"the preflight submission failed: {first.error}")
        alert = wait_for_alert(proxy.recorder, first.reference, 15)
        for _ in range(100):  # and for Prism's answer to it
            if alert is None or alert.status is not None:
                break
            time.sleep(0.05)
        if alert is None:
            raise BenchError(f"no clinician alert for the preflight concern {first.reference} reached the SMS API "
                             f"within 15 s; requests seen: {len(proxy.recorder.snapshot())}; worker log:\n"
                             f"{workers.log_tail()}")
        report.path, report.recipients = describe_path(db, first.reference)
        log(f"  preflight {first.reference}: 303 in {first.response_ms:.1f} ms, alert to {alert.to} "
            f"{1000 * (alert.t - first.answered):.1f} ms after the answer (Prism {alert.status})")
        log(f"  path: {report.path}")
        log(f"  its clinician messages: {report.recipients}")
        if db.kind == "postgres":
            listening = db.listeners()
            report.notify = (f"yes: {listening} LISTEN connection(s) seen in pg_stat_activity" if listening
                             else "NO: no LISTEN connection seen (the worker polls only; see its log)")
        else:
            report.notify = "no (SQLite has no NOTIFY: the worker polls)"
        log(f"  NOTIFY: {report.notify}")

        if opts.warmup > 0:
            steady(opts.rate, opts.warmup, lambda n, due: submitter.submit(Submission(n, "warm-up", due)))
            log(f"  warm-up: {opts.warmup:g} s at {opts.rate:g}/s (not counted)")
        time.sleep(1.0)  # let the warm-up's alerts go out before measuring
        if opts.quiet_wait > 0:
            sb.wait_until_quiet(server, db, opts.quiet_wait)

        probe = LivezProbe(port, opts.livez_rate)

        def our_pids():
            return [*server.pids(), *workers.pids(), *db.server_pids(), *prism_pids(proxy)]

        with CpuWindow(our_pids) as cpu:
            probe.start()
            t0 = time.perf_counter()
            count = steady(opts.rate, opts.duration,
                           lambda n, due: submitter.submit(Submission(n, "measured", due)))
            elapsed = time.perf_counter() - t0
            probe.stop()
        report.achieved_rate = count / elapsed if elapsed else None
        report.foreign_pct = cpu.foreign_pct
        report.worker_cpu_pct = 100 * cpu.cpu_of(workers.pids()) / cpu.seconds
        report.web_cpu_pct = 100 * cpu.cpu_of(server.pids()) / cpu.seconds
        report.livez_ms, report.livez_errors = probe.times_ms, probe.errors

        measured = [s for s in submitter.done if s.phase == "measured"]
        report.submissions = sorted(measured, key=lambda s: s.n)
        wanted = [s.reference for s in measured if s.reference]
        deadline = time.monotonic() + opts.drain
        while time.monotonic() < deadline:
            seen = {a.reference for a in proxy.recorder.snapshot() if a.is_alert}
            if all(r in seen for r in wanted):
                break
            time.sleep(0.1)
        while time.monotonic() < deadline:  # and the family texts, so the outbox below is settled
            if not db.query("SELECT count(*) FROM message WHERE send_state IN (?, ?)", ("pending", "sending"))[0][0]:
                break
            time.sleep(0.1)
        log(f"  measured {len(measured)} submissions in {elapsed:.1f} s; "
            f"workers {'alive' if workers.alive() else 'NOT ALIVE'}")

        arrivals = proxy.recorder.snapshot()
        by_reference: dict[str, list[Arrival]] = {}
        for a in arrivals:
            if a.is_alert:
                by_reference.setdefault(a.reference, []).append(a)
        for s in report.submissions:
            if not s.reference:
                continue
            got = by_reference.get(s.reference, [])
            if not got:
                report.missing.append(s.reference)
                report.alerts_per_concern[0] = report.alerts_per_concern.get(0, 0) + 1
                continue
            # Immediate: within the drain window of the answer. Later ones are the policy's next
            # steps (a policy may wait only a minute), counted apart.
            immediate = [a for a in got if a.t - s.answered <= opts.drain]
            report.later_alerts += len(got) - len(immediate)
            report.alerts_per_concern[len(immediate)] = report.alerts_per_concern.get(len(immediate), 0) + 1
            first_alert = min(got, key=lambda a: a.t)
            report.latencies_ms.append(1000 * (first_alert.t - s.answered))
            report.prism_ms.extend(a.prism_ms for a in got if a.prism_ms is not None)
        report.negative = sum(1 for v in report.latencies_ms if v < 0)
        references = {s.reference for s in report.submissions if s.reference}
        window = [a for a in arrivals if a.t >= t0]
        report.family_texts = sum(1 for a in window if not a.is_alert)
        for a in arrivals:
            if a.status is not None:
                report.prism_statuses[a.status] = report.prism_statuses.get(a.status, 0) + 1
        report.other_api_requests = proxy.recorder.other_requests
        report.proxy_errors = list(proxy.recorder.proxy_errors)

        # The outbox's view of the same concerns.
        rows = db.query("SELECT c.reference, m.template_id, m.channel, m.send_state, m.escalation_step, c.flagged_burst,"
                        " c.flagged_automated FROM concern c LEFT JOIN message m ON m.concern_id = c.id")
        steps: dict[str, list[int]] = {}  # reference -> escalation step of each clinician alert
        flagged = set()
        for reference, template, _channel, state, step, burst, automated in rows:
            if reference not in references:
                continue
            if burst or automated:
                flagged.add(reference)
            if template is None:
                continue
            report.outbox[f"{template} {state}"] = report.outbox.get(f"{template} {state}", 0) + 1
            if template in {"clinician_alert", "clinician_alert_burst", "voice_alert"}:
                steps.setdefault(reference, []).append(step if step is not None else -1)
        for reference in references:
            found = steps.get(reference, [])
            n = found.count(min(found)) if found else 0  # alerts of the first step that fired (raise time)
            report.first_step_alerts[n] = report.first_step_alerts.get(n, 0) + 1
        report.flagged = len(flagged)
        for name, text in (("gunicorn", server.log_path.read_text(errors="replace")), ("worker", workers.log_text())):
            report.log_errors += [f"{name}: {ln}" for ln in text.splitlines()
                                  if re.search(r"\b(ERROR|CRITICAL|Traceback|WORKER TIMEOUT)\b", ln)]
    finally:
        if probe is not None:
            probe.stop()
        workers.stop()
        server.stop()
    return report


def prism_pids(proxy: TimestampingProxy) -> list[int]:
    pid = getattr(proxy, "prism_pid", None)
    return [pid, *sb.children_of(pid)] if pid else []


# --- the summary -----------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def summarise(reports: list[DbReport], opts, info: dict) -> dict:
    log("\n" + "=" * 100)
    log("SETTINGS")
    log(f"  rate {opts.rate:g} concerns/s for {opts.duration:g} s per database (warm-up {opts.warmup:g} s, not counted);"
        f" form /w/{WARD}; gunicorn -k sync -w {opts.web_workers}")
    log(f"  worker: {opts.sms_workers} process(es) of `flask --app wsgi tracker worker`, WORKER_POLL_SECONDS={opts.poll:g},"
        f" SMS_BACKEND=twilio (the twilio SDK) -> timestamping proxy -> Prism {info.get('Prism', '?')}")
    log(f"  /livez timed alongside at {opts.livez_rate:g}/s; drain wait up to {opts.drain:g} s after the last submission")
    log("  " + " | ".join(f"{k} {v}" for k, v in info.items()))
    log("  latency = arrival of the alert's request at the SMS API (proxy) - arrival of the 303 answer at the client"
        " (one clock: time.perf_counter() in this process)")

    summary = {}
    log("\nRESULTS (ms)")
    log(f"  {'database':<13}{'count':>6}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}{'min':>8} |"
        f"{'submit p50':>11}{'p99':>7} |{'livez p50':>10}{'p99':>7}{'max':>7} |{'Prism p50':>10}")
    for rep in reports:
        lat = rep.latencies_ms
        subs = rep.submissions
        response = [s.response_ms for s in subs if s.status == 303]
        row = {
            "database": rep.db.label, "count": len(lat),
            "p50_ms": percentile(lat, 50), "p90_ms": percentile(lat, 90), "p99_ms": percentile(lat, 99),
            "max_ms": max(lat) if lat else None, "min_ms": min(lat) if lat else None,
            "mean_ms": statistics.fmean(lat) if lat else None,
            "submissions": len(subs), "submission_errors": [s.error for s in subs if s.error][:5],
            "submission_error_count": sum(1 for s in subs if s.error),
            "submit_p50_ms": percentile(response, 50), "submit_p99_ms": percentile(response, 99),
            "livez_p50_ms": percentile(rep.livez_ms, 50), "livez_p99_ms": percentile(rep.livez_ms, 99),
            "livez_max_ms": max(rep.livez_ms) if rep.livez_ms else None, "livez_count": len(rep.livez_ms),
            "livez_errors": rep.livez_errors,
            "prism_p50_ms": percentile(rep.prism_ms, 50), "prism_p99_ms": percentile(rep.prism_ms, 99),
            "achieved_rate": rep.achieved_rate, "missing_alerts": rep.missing,
            "alerts_per_concern_at_api": rep.alerts_per_concern, "later_alerts": rep.later_alerts, "first_step_alerts_in_outbox": rep.first_step_alerts,
            "family_texts": rep.family_texts, "outbox": rep.outbox, "flagged": rep.flagged,
            "prism_statuses": rep.prism_statuses, "other_api_requests": rep.other_api_requests,
            "proxy_errors": rep.proxy_errors, "path": rep.path, "recipients": rep.recipients, "notify": rep.notify,
            "foreign_cpu_pct": rep.foreign_pct, "worker_cpu_pct": rep.worker_cpu_pct, "web_cpu_pct": rep.web_cpu_pct,
            "negative_latencies": rep.negative, "latencies_ms": [round(v, 3) for v in lat],
            "settings": {"WORKER_POLL_SECONDS": opts.poll, "rate": opts.rate, "duration": opts.duration,
                         "sms_workers": opts.sms_workers, "web_workers": opts.web_workers, "notify": rep.notify},
        }
        summary[rep.db.kind] = row
        log(f"  {rep.db.label:<13}{len(lat):>6}{fmt(row['p50_ms']):>8}{fmt(row['p90_ms']):>8}{fmt(row['p99_ms']):>8}"
            f"{fmt(row['max_ms']):>8}{fmt(row['min_ms']):>8} |{fmt(row['submit_p50_ms']):>11}{fmt(row['submit_p99_ms']):>7} |"
            f"{fmt(row['livez_p50_ms']):>10}{fmt(row['livez_p99_ms']):>7}{fmt(row['livez_max_ms']):>7} |"
            f"{fmt(row['prism_p50_ms']):>10}")

    for rep in reports:
        row = summary[rep.db.kind]
        target = TARGETS[rep.db.kind]
        log(f"\n{rep.db.label}")
        log(f"  settings: WORKER_POLL_SECONDS={opts.poll:g}, database {rep.db.label}, rate {opts.rate:g}/s "
            f"(achieved {fmt(rep.achieved_rate, 2)}/s), {opts.sms_workers} worker process(es), NOTIFY: {rep.notify}")
        log(f"  path measured: {rep.path}")
        log(f"    first concern's clinician messages: {rep.recipients}")
        log(f"  concerns: {len(rep.submissions)} submitted, {row['submission_error_count']} failed"
            + (f" (e.g. {row['submission_errors'][0]})" if row["submission_errors"] else "")
            + f"; flagged as a burst or automated: {rep.flagged}")
        log(f"  clinician alerts per concern at the SMS API within {opts.drain:g} s: "
            + ", ".join(f"{k} alert(s): {v}" for k, v in sorted(rep.alerts_per_concern.items()))
            + "; first-step alerts per concern in the outbox: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(rep.first_step_alerts.items()))
            + (f"; later escalation alerts: {rep.later_alerts}" if rep.later_alerts else ""))
        log(f"  family texts sent in the same window: {rep.family_texts}; Prism answers: {rep.prism_statuses}; "
            f"other API requests (look-ups): {rep.other_api_requests}; proxy errors: {len(rep.proxy_errors)}")
        log("  outbox: " + ", ".join(f"{k} {v}" for k, v in sorted(rep.outbox.items())))
        log(f"  CPU over the measured window (% of one core): worker {fmt(rep.worker_cpu_pct)}, gunicorn "
            f"{fmt(rep.web_cpu_pct)}; foreign (not ours) {fmt(rep.foreign_pct)}% of the machine"
            + ("  DISTURBED (other work on the machine)" if (rep.foreign_pct or 0) > DISTURBED_FOREIGN_CPU else ""))
        if opts.poll > 0:
            log(f"  for reference: polling alone gives about {500 * opts.poll:.0f} ms median and {1000 * opts.poll:.0f} ms"
                " max after commit (perf-reference.md 6a); NOTIFY 0.05 ms median (6b)")
        if rep.negative:
            log(f"  {rep.negative} alert(s) reached the SMS API before the client had read the 303 (negative latency): "
                "the commit wakes the worker while gunicorn is still writing the answer")
        if rep.missing:
            log(f"  NO ALERT within {opts.drain:g} s for {len(rep.missing)} concern(s), e.g. {rep.missing[:3]}")
        if rep.log_errors:
            log(f"  log: {len(rep.log_errors)} error line(s), e.g. {rep.log_errors[0][:200]}")
        if rep.proxy_errors:
            log(f"  proxy: {rep.proxy_errors[0][:200]}")
        log("  TARGETS")
        one_each = set(rep.first_step_alerts) == {1} and set(rep.alerts_per_concern) == {1}
        checks = [
            (f"alert p50 {fmt(row['p50_ms'])} ms < {target['p50']:.0f} ms",
             row["p50_ms"] is not None and row["p50_ms"] < target["p50"]),
            (f"alert p99 {fmt(row['p99_ms'])} ms < {target['p99']:.0f} ms",
             row["p99_ms"] is not None and row["p99_ms"] < target["p99"]),
            (f"every concern's alert reached the SMS API ({row['count']} of {len(rep.submissions)})",
             bool(row["count"]) and not rep.missing and row["count"] == len(rep.submissions)),
            ("exactly one immediate clinician alert per concern", one_each),
        ]
        for label, ok in checks:
            log(f"    {label:<62}{verdict(ok)}")
        if len(row["latencies_ms"]) < 100:
            log(f"    (only {len(row['latencies_ms'])} samples: the p99 is close to the maximum; run longer for a"
                " steadier tail)")
    disturbed = [r for r in reports if (r.foreign_pct or 0) > DISTURBED_FOREIGN_CPU]
    if disturbed:
        log(f"\nNOTE: other work used more than {DISTURBED_FOREIGN_CPU:.0f}% of the machine while "
            f"{', '.join(r.db.label for r in disturbed)} was measured; the /livez column shows how much that slowed"
            " the server. Rerun when the machine is quiet.")
    return summary


def versions(dbs, prism: Prism) -> dict:
    code = ("import json, sys, sqlite3, gunicorn, flask, sqlalchemy, twilio;"
            "from importlib.metadata import version;"
            "print(json.dumps({'Python': sys.version.split()[0], 'gunicorn': gunicorn.__version__,"
            " 'Flask': version('flask'), 'SQLAlchemy': sqlalchemy.__version__, 'twilio': twilio.__version__,"
            " 'SQLite': sqlite3.sqlite_version}))")
    done = subprocess.run([PYTHON, "-W", "ignore", "-c", code], capture_output=True, text=True, cwd=REPO)
    try:
        found = json.loads(done.stdout)
    except ValueError:
        found = {}
    for db in dbs:
        if db.kind == "postgres":
            with contextlib.suppress(Exception):
                found["PostgreSQL"] = db.version()
    found["Prism"] = prism.version()
    found["nproc"] = len(os.sched_getaffinity(0))
    with contextlib.suppress(OSError):
        model = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        if model:
            found["CPU"] = model.group(1).strip()
    found["load avg at start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with contextlib.suppress(Exception):
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, cwd=REPO)
        found["commit"] = commit.stdout.strip() + (" (+ uncommitted changes)" if dirty.stdout.strip() else "")
    return found


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--rate", type=float, default=3.0, help="concerns submitted per second (default 3)")
    p.add_argument("--duration", type=float, default=60, help="seconds of measured submissions per database (default 60)")
    p.add_argument("--warmup", type=float, default=5, help="seconds of submissions before measuring, not counted (default 5)")
    p.add_argument("--poll", type=float, default=0.1, help="WORKER_POLL_SECONDS for the worker (default 0.1, the app's)")
    p.add_argument("--sms-workers", type=int, default=1, help="worker processes (default 1; SQLite runs one)")
    p.add_argument("--web-workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    p.add_argument("--livez-rate", type=float, default=2.0, help="GET /livez per second alongside (default 2; 0: none)")
    p.add_argument("--drain", type=float, default=15, help="seconds to wait for the last alerts (default 15)")
    p.add_argument("--quiet-wait", type=float, default=30,
                   help=f"before measuring, wait up to this many seconds for other work on the machine to drop below "
                        f"{DISTURBED_FOREIGN_CPU:.0f}%% CPU (default 30; 0: do not wait)")
    p.add_argument("--port", type=int, default=0, help="gunicorn port (default: a free one)")
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file (bench/results/ is ignored by git)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, SQLite file)")
    opts = p.parse_args(argv)
    if opts.rate <= 0 or opts.duration <= 0 or opts.poll <= 0 or opts.sms_workers < 1 or opts.web_workers < 1:
        p.error("need --rate, --duration and --poll > 0, and at least one worker of each kind")
    return opts


def _terminate(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    opts = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    pg_up = sb.postgres_answers()
    if opts.db in ("postgres", "both") and not pg_up:
        log(f"PostgreSQL SKIPPED: nothing answers on {sb.PG_HOST}:{sb.PG_PORT} (start PostgreSQL to measure it)")
        if opts.db == "postgres":
            return 2
    workdir = Path(tempfile.mkdtemp(prefix="bench-alert-"))
    dbs = []
    if opts.db in ("sqlite", "both"):
        dbs.append(SqliteDatabase(workdir))
    if opts.db in ("postgres", "both") and pg_up:
        dbs.append(PostgresDatabase())
    log(f"bench/alert_latency.py: {', '.join(d.label for d in dbs)}; temporary files in {workdir}")
    prism = Prism(workdir / "prism.log")
    proxy = None
    reports, failed = [], []
    try:
        try:
            prism.start()
        except BenchError as e:
            log(f"COULD NOT MEASURE: {e}")
            return 2
        proxy = TimestampingProxy(prism.port)
        proxy.prism_pid = prism.process.pid
        proxy.start()
        log(f"  Prism {prism.version()} on 127.0.0.1:{prism.port}; timestamping proxy on {proxy.base}")
        info = versions(dbs, prism)
        for db in dbs:
            proxy.recorder = Recorder()  # each database's alerts on their own
            try:
                reports.append(run_database(db, opts, workdir, proxy))
            except BenchError as e:
                failed.append(db.label)
                log(f"\n{db.label}: COULD NOT MEASURE: {e}")
            finally:
                try:
                    db.drop()
                except Exception as e:  # noqa: BLE001
                    log(f"  could not drop the PostgreSQL database {getattr(db, 'name', '')}: {e}")
        if reports:
            summary = summarise(reports, opts, info)
            if opts.json:
                opts.json.parent.mkdir(parents=True, exist_ok=True)
                opts.json.write_text(json.dumps({"settings": {**vars(opts), "json": str(opts.json)}, "versions": info,
                                                 "results": summary}, indent=2, default=str))
                log(f"\nwrote {opts.json}")
    except KeyboardInterrupt:
        log("\ninterrupted: stopped the servers and removed the temporary data")
        return 130
    finally:
        if proxy is not None:
            proxy.stop()
        prism.stop()
        for db in dbs:
            with contextlib.suppress(Exception):
                db.drop()
        if opts.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        log(f"\nnot measured: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
