#!/usr/bin/env python3
"""Benchmark: the clinicians' queue (GET /triage/) and its refresh (GET /triage/queue/rows, with and
without If-None-Match), signed in, next to GET /livez, on gunicorn, with 100,000 historic concerns
and 200 open ones.

A measurement, not a test: it prints figures and PASS/FAIL against the targets, and exits 0
even when a target is missed (it exits non-zero only when it could not measure at all).

For each database (SQLite: a fresh file in a temporary directory; PostgreSQL: a fresh database
bench_queue_<pid> on 127.0.0.1:5432, dropped at the end) it:

1. runs the migrations and `flask tracker seed-demo` with TRACKER_CONFIG=benchmark;
2. creates an outreach clinician in team ngh-ccot and a server-side session for them, inside the
   app (`auth.start_session`), and signs Flask's session cookie with the app's own serializer;
3. bulk-inserts, with the database drivers (sqlite3 executemany / psycopg COPY), not the app,
   100,000 historic concerns (closed or cancelled, over the last two years) and 20 open ones,
   with family and clinician text messages; counts the SQL statements of each endpoint in the
   app (test client, same cookie); adds 180 more open concerns, runs ANALYZE (PostgreSQL: VACUUM
   ANALYZE) and counts again: the counts must not depend on the number of rows (no N+1);
4. prints the query plans of the queue's main query and of the ETag query of queue_version(),
   captured from the app as it ran them, and how long each takes;
5. starts `gunicorn -k sync -w 2`, checks once from Python that /triage/ answers 200 with the
   200 open calls and that the refresh answers 304 to its own ETag;
6. warms up (2 s per endpoint, not counted), then runs wrk -t2 -c32 --latency on /livez, the
   queue page, the refresh with If-None-Match (304 expected; anything else is an error) and the
   refresh without it (200), rotating their order each round, for N rounds.

Usage (from the repository root):

    .venv/bin/python bench/queue.py                       # both databases, 3 rounds of 10 s
    .venv/bin/python bench/queue.py --db sqlite --rounds 1 --duration 5

See bench/README.md for what it prints.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named queue.py, like the standard library's `queue`. Python puts the script's
# folder first on sys.path, so any `import queue` (concurrent.futures, logging.handlers, ...)
# would load this file instead: take the folder off the path before importing anything else.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != _HERE]

import argparse  # noqa: E402
import contextlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

# The shared helpers (gunicorn, wrk and its Lua prelude, CPU accounting, the databases, versions).
_spec = importlib.util.spec_from_file_location("bench_submit", _HERE / "submit.py")
sb = importlib.util.module_from_spec(_spec)
sys.modules["bench_submit"] = sb
_spec.loader.exec_module(sb)

BenchError = sb.BenchError
log = sb.log
REPO = sb.REPO
PYTHON = sb.PYTHON

TEAM = "ngh-ccot"
WARDS = ("ngh-7b", "ngh-9", "ngh-amu")
PAGE_PATH = "/triage/"
ROWS_PATH = "/triage/queue/rows"
LIVEZ_PATH = sb.LIVEZ_PATH
BENCH_EMAIL = "bench.outreach@demo-hospitals.invalid"

# Endpoints measured with wrk: key -> (path, expected status, label).
ENDPOINTS = {
    "livez": (LIVEZ_PATH, 200, "GET /livez"),
    "page": (PAGE_PATH, 200, "GET /triage/ (queue page)"),
    "rows304": (ROWS_PATH, 304, "GET /triage/queue/rows + If-None-Match (304)"),
    "rows200": (ROWS_PATH, 200, "GET /triage/queue/rows (full refresh, 200)"),
}
ORDER = tuple(ENDPOINTS)

# Targets from the issue: req/s ÷ /livez req/s in the same round.
TARGETS = {"page": 0.035, "rows304": 0.2}
REFERENCE = ("a bare ORM + Jinja page of 200 rows (no session, no auth) reaches 0.055-0.065 x a no-database "
             "endpoint with an index on status and time (0.4 x that without)")
DISTURBED_FOREIGN_CPU = sb.DISTURBED_FOREIGN_CPU


# --- wrk's Lua script ---------------------------------------------------------------------------------

LUA_GET = r"""
-- A signed-in GET (static: wrk builds the request once). Written by bench/queue.py.
-- Every answer that is not EXPECTED is counted as an error.
EXPECTED = @EXPECTED@
wrk.method = "GET"
@HEADERS@
function init(args)
  sent, received, unexpected, statuses = 0, 0, 0, {}
end
"""


def write_get_lua(directory: Path, name: str, expected: int, headers: dict[str, str]) -> Path:
    lines = "\n".join(f'wrk.headers["{sb.lua_string(k)}"] = "{sb.lua_string(v)}"' for k, v in headers.items())
    path = directory / name
    path.write_text(LUA_GET.replace("@EXPECTED@", str(int(expected))).replace("@HEADERS@", lines) + sb.LUA_COMMON)
    return path


# --- the databases --------------------------------------------------------------------------------------


class PostgresDatabase(sb.PostgresDatabase):
    def __init__(self):
        super().__init__()
        self.name = f"bench_queue_{os.getpid()}"
        self.url = f"postgresql+psycopg://{sb.PG_USER}@{sb.PG_HOST}:{sb.PG_PORT}/{self.name}"

    def connect(self):
        return self._connect(self.name)


class SqliteDatabase(sb.SqliteDatabase):
    def connect(self):
        import sqlite3

        return contextlib.closing(sqlite3.connect(self.path, timeout=30))


def query(db, sql: str, params=()) -> list[tuple]:
    """A few rows over the driver (qmark on SQLite, %s on PostgreSQL: write the SQL with ?)."""
    if db.kind == "postgres":
        with db.connect() as conn:
            return conn.execute(sql.replace("%", "%%").replace("?", "%s") if params else sql, params or None).fetchall()
    with db.connect() as conn:
        return conn.execute(sql, params).fetchall()


def table_columns(db, table: str) -> dict[str, bool]:
    """{column: required} where required = NOT NULL without a default."""
    if db.kind == "postgres":
        rows = query(db, "SELECT column_name, is_nullable = 'NO' AND column_default IS NULL "
                         "FROM information_schema.columns WHERE table_name = ?", (table,))
        return {name: bool(req) for name, req in rows}
    with db.connect() as conn:
        rows = conn.execute(f"PRAGMA table_info({table})").fetchall()  # cid, name, type, notnull, dflt, pk
    return {r[1]: bool(r[3]) and r[4] is None and not r[5] for r in rows}


def check_columns(db, table: str, columns: list[str]) -> None:
    have = table_columns(db, table)
    unknown = [c for c in columns if c not in have]
    missing = [c for c, required in have.items() if required and c not in columns and c != "id"]
    if unknown or missing:
        raise BenchError(f"the seed rows for {table} do not match the schema: unknown columns {unknown}, "
                         f"NOT NULL columns not filled {missing} (look at migrations/versions/*.py)")


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's storage format
    if isinstance(value, bool):
        return int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def bulk_insert(db, table: str, columns: list[str], rows: list[tuple]) -> None:
    """Driver-level bulk insert: psycopg COPY on PostgreSQL, sqlite3 executemany on SQLite."""
    check_columns(db, table, columns)
    if db.kind == "postgres":
        with db.connect() as conn, conn.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    with db.connect() as conn:
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                         [tuple(_sqlite_value(v) for v in row) for row in rows])
        conn.execute("COMMIT")


def analyze(db) -> None:
    if db.kind == "postgres":
        with db.connect() as conn:  # autocommit: VACUUM sets the visibility map for index-only scans
            conn.execute("VACUUM ANALYZE")
        return
    with db.connect() as conn:
        conn.execute("ANALYZE")
        conn.commit()


# --- the data ---------------------------------------------------------------------------------------------

REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # tracker/services/references.py
WORRIES = ["not_usual_self", "breathing", "skin_or_sweating", "little_urine", "sleepy_or_confused",
           "hands_hot_or_cold", "pain", "general_worry"]
DETAILS = ["Mum is breathing fast and does not seem herself since this morning.",
           "Dad is much sleepier than yesterday and muddled about where he is.",
           "She is hot and shaky and has hardly passed any water today.",
           "He says the pain is worse and nobody has been to see him since lunch.",
           "Her lips look grey and she is struggling to finish a sentence."]
CONCERN_COLUMNS = [
    "reference", "submission_id", "ward_id", "site_id", "team_id", "bed", "patient_name", "patient_dob",
    "hospital_number", "caller_route", "caller_name", "caller_relationship", "callback_number", "callback_textable",
    "sms_consent", "locale", "preferred_language", "interpreter_needed", "communication_needs", "worry_categories",
    "worry_details", "spoke_to_ward", "ward_response", "channel", "status", "priority", "claimed_by_id", "version",
    "repeat_count", "last_repeat_at", "flagged_burst", "flagged_automated", "raised_at", "first_alert_sent_at",
    "acknowledged_at", "reviewed_at", "caller_updated_at", "closed_at", "updated_at", "review_kind", "news2_total",
    "news2_scale", "news2_response", "news2_parameters", "concern_type", "clinical_review_needed",
    "deterioration_outcome", "change_in_care", "caller_update_method", "cancel_kind", "duplicate_of_id", "repeat_key",
]
MESSAGE_COLUMNS = [
    "concern_id", "audience", "channel", "recipient_kind", "recipient_user_id", "recipient_role", "to_number",
    "template_id", "variables", "locale", "idempotency_key", "send_state", "hold_reason", "attempts",
    "next_attempt_at", "lease_owner", "lease_until", "provider_sid", "delivery_status", "delivery_status_at",
    "error_code", "error_reason", "body", "created_at", "accepted_at", "updated_at",
]


def reference(n: int) -> str:
    """A unique MR-XXXX-XX for every n < 31**6 (7919 is prime to 31, so n -> n*7919 is a bijection)."""
    x = (n * 7919 + 12345) % len(REF_ALPHABET) ** 6
    chars = []
    for _ in range(6):
        x, d = divmod(x, len(REF_ALPHABET))
        chars.append(REF_ALPHABET[d])
    return f"MR-{''.join(chars[:4])}-{''.join(chars[4:])}"


@dataclass
class Trust:
    team_id: int
    site_id: int
    ward_ids: list[int]
    user_id: int  # the benchmark's clinician
    colleague_id: int  # the demo outreach nurse


def find_trust(db, user_id: int) -> Trust:
    team = query(db, "SELECT id, site_id FROM team WHERE code = ?", (TEAM,))
    if not team:
        raise BenchError(f"no team {TEAM}: did `flask tracker seed-demo` run?")
    wards = [r[0] for r in query(db, "SELECT id FROM ward WHERE team_id = ? ORDER BY code", (team[0][0],))]
    colleague = query(db, "SELECT id FROM user_account WHERE email = 'outreach@demo-hospitals.invalid'")
    return Trust(team[0][0], team[0][1], wards, user_id, colleague[0][0] if colleague else user_id)


def concern_row(n: int, trust: Trust, rng: random.Random, now: datetime, *, open_call: bool) -> tuple:
    ward_id = trust.ward_ids[n % len(trust.ward_ids)]
    cats = json.dumps(rng.sample(WORRIES, rng.randint(1, 3)))
    channel = rng.choice(["own_device", "own_device", "tablet", "phone_call"])
    route = rng.choice(["family_carer_advocate"] * 8 + ["patient", "staff"])
    if open_call:
        raised = now - timedelta(seconds=rng.randint(120, 6 * 3600))
        status = rng.choices(["new", "acknowledged", "reviewed"], weights=[40, 35, 25])[0]
    else:
        raised = now - timedelta(days=730) + timedelta(seconds=rng.randint(0, 730 * 86400 - 8 * 3600))
        status = "closed" if rng.random() < 0.85 else "cancelled"
    alerted = raised + timedelta(seconds=5)
    acked = reviewed = closed = caller_updated = None
    claimed = priority = review_kind = news2 = news2_scale = news2_response = concern_type = None
    review_needed = outcome = update_method = cancel_kind = None
    version = 1
    if status != "new":
        acked = raised + timedelta(minutes=rng.randint(2, 25))
        claimed = trust.user_id if rng.random() < 0.5 else trust.colleague_id
        priority = rng.choice([None, 1, 2, 3])
        version += 1
    if status in ("reviewed", "closed"):
        reviewed = acked + timedelta(minutes=rng.randint(10, 90))
        review_kind = rng.choice(["phone_advice", "seen_on_ward"])
        news2, news2_scale, news2_response = rng.randint(0, 9), 1, rng.choice(["low", "medium", "high"])
        version += 1
    if status == "closed":
        closed = reviewed + timedelta(minutes=rng.randint(10, 300))
        caller_updated = closed - timedelta(minutes=5)
        concern_type = rng.choice(["acute_deterioration", "clinical_concern", "communication"])
        review_needed = True
        outcome = "no_change" if concern_type == "acute_deterioration" else None
        update_method = "phone"
        version += 1
    if status == "cancelled":
        closed = None
        cancel_kind = rng.choice(["duplicate", "withdrawn"])
        version += 1
    if open_call and status == "new" and rng.random() < 0.5:
        acked = None
    stamps = [t for t in (raised, alerted, acked, reviewed, closed) if t is not None]
    updated = min(max(stamps), now - timedelta(seconds=30))
    if status == "cancelled":
        updated = min(raised + timedelta(minutes=rng.randint(5, 120)), now - timedelta(seconds=30))
    values = {
        "reference": reference(n), "submission_id": f"bench-{n}", "ward_id": ward_id, "site_id": trust.site_id,
        "team_id": trust.team_id, "bed": rng.choice(["Bay 1", "Bay 2", "Side room 1", None]),
        "patient_name": f"Patient {n}", "patient_dob": None, "hospital_number": None, "caller_route": route,
        "caller_name": f"Caller {n}", "caller_relationship": "daughter", "callback_number": "+447400123456",
        "callback_textable": True, "sms_consent": True, "locale": "en", "preferred_language": None,
        "interpreter_needed": False, "communication_needs": None, "worry_categories": cats,
        "worry_details": rng.choice(DETAILS), "spoke_to_ward": "yes", "ward_response": "They said they would check.",
        "channel": channel, "status": status, "priority": priority, "claimed_by_id": claimed, "version": version,
        "repeat_count": 0, "last_repeat_at": None, "flagged_burst": False, "flagged_automated": False,
        "raised_at": raised, "first_alert_sent_at": alerted, "acknowledged_at": acked, "reviewed_at": reviewed,
        "caller_updated_at": caller_updated, "closed_at": closed, "updated_at": updated, "review_kind": review_kind,
        "news2_total": news2, "news2_scale": news2_scale, "news2_response": news2_response, "news2_parameters": None,
        "concern_type": concern_type, "clinical_review_needed": review_needed, "deterioration_outcome": outcome,
        "change_in_care": "[]", "caller_update_method": update_method, "cancel_kind": cancel_kind,
        "duplicate_of_id": None, "repeat_key": None,
    }
    return tuple(values[c] for c in CONCERN_COLUMNS)


def message_row(concern_id: int, raised: datetime, key: str, *, family: bool, state: str, delivery: str | None) -> tuple:
    at = raised + timedelta(seconds=3)
    values = {
        "concern_id": concern_id, "audience": "family" if family else "clinician", "channel": "sms",
        "recipient_kind": "caller" if family else "contact", "recipient_user_id": None,
        "recipient_role": None if family else "duty_phone", "to_number": "+447400123456" if family else "+447400900101",
        "template_id": "family_receipt" if family else "clinician_alert", "variables": "{}", "locale": "en",
        "idempotency_key": key, "send_state": state, "hold_reason": None, "attempts": 1 if state == "accepted" else 0,
        "next_attempt_at": at, "lease_owner": None, "lease_until": None,
        "provider_sid": f"SM{key}" if state == "accepted" else None, "delivery_status": delivery,
        "delivery_status_at": at + timedelta(seconds=20) if delivery else None, "error_code": None,
        "error_reason": None, "body": None, "created_at": at, "accepted_at": at if state == "accepted" else None,
        "updated_at": at + timedelta(seconds=20),
    }
    return tuple(values[c] for c in MESSAGE_COLUMNS)


def seed_concerns(db, trust: Trust, first: int, count: int, *, open_calls: bool, rng: random.Random) -> dict:
    """Insert `count` concerns numbered from `first`, then their messages: every open call has a
    clinician alert and about half a family text; about 30 % of the historic ones a family text."""
    now = datetime.now(UTC)
    t0 = time.monotonic()
    rows = [concern_row(n, trust, rng, now, open_call=open_calls) for n in range(first, first + count)]
    bulk_insert(db, "concern", CONCERN_COLUMNS, rows)
    ids = dict(query(db, "SELECT submission_id, id FROM concern WHERE submission_id LIKE 'bench-%' AND id >= "
                         "(SELECT min(id) FROM concern WHERE submission_id = ?)", (f"bench-{first}",)))
    raised_i = CONCERN_COLUMNS.index("raised_at")
    messages = []
    for n, row in zip(range(first, first + count), rows, strict=True):
        cid = ids[f"bench-{n}"]
        if open_calls:
            messages.append(message_row(cid, row[raised_i], f"bench:{n}:alert", family=False, state="accepted",
                                        delivery="delivered"))
        if rng.random() < (0.5 if open_calls else 0.3):
            state, delivery = rng.choice([("accepted", "delivered"), ("accepted", "sent"), ("pending", None),
                                          ("accepted", "undelivered")])
            messages.append(message_row(cid, row[raised_i], f"bench:{n}:family", family=True, state=state,
                                        delivery=delivery))
    bulk_insert(db, "message", MESSAGE_COLUMNS, messages)
    return {"concerns": count, "messages": len(messages), "seconds": time.monotonic() - t0}


# --- inside the app (a child process with the benchmark's environment) ------------------------------


def run_inapp(env: dict, command: str, payload: dict, timeout: float = 600) -> dict:
    done = subprocess.run([PYTHON, str(Path(__file__).resolve()), "_inapp", command], input=json.dumps(payload),
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=timeout)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("INAPP_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"in-app step {command!r} failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
                         f"{done.stderr[-3000:]}")
    return json.loads(line.split(" ", 1)[1])


def _inapp_main(command: str) -> int:
    sys.path.insert(0, str(REPO))
    os.chdir(REPO)
    payload = json.loads(sys.stdin.read() or "{}")
    import logging

    logging.basicConfig(level=logging.WARNING)
    from tracker import create_app

    app = create_app()
    result = {"session": _inapp_session, "count": _inapp_count}[command](app, payload)
    print("INAPP_RESULT " + json.dumps(result, default=str), flush=True)
    return 0


def _inapp_session(app, payload: dict) -> dict:
    """An outreach clinician in team ngh-ccot (password already changed) with a live server-side
    session, and the Flask session cookie that names it (as tests/conftest.py sign_in_directly)."""
    from sqlalchemy import select

    from tracker.clock import utcnow
    from tracker.db import write_intent
    from tracker.extensions import db
    from tracker.models import Role, Team
    from tracker.services import audit, auth
    from tracker.services.users import create_user

    with app.app_context(), write_intent():
        team = db.session.scalar(select(Team).where(Team.code == TEAM))
        user, _password = create_user(audit.Actor.cli(), email=BENCH_EMAIL, display_name="Bench Outreach Nurse",
                                      role=Role.OUTREACH, teams=[team])
        user.must_change_password = False
        user.password_changed_at = utcnow()
        token, _record = auth.start_session(user, user_agent="bench/queue.py", address="127.0.0.1")
        db.session.commit()
        user_id = user.id
    with app.test_request_context():
        cookie = app.session_interface.get_signing_serializer(app).dumps({"_user_id": token, "_fresh": True})
    return {"user_id": user_id, "cookie_name": app.config["SESSION_COOKIE_NAME"], "cookie": cookie}


def _inapp_count(app, payload: dict) -> dict:
    """SQL statements per request for each endpoint (test client, the benchmark's cookie); with
    `plans`, also the plans and timings of the queue's main query and of the ETag query, as the
    app sent them."""
    from sqlalchemy import event

    from tracker.extensions import db

    client = app.test_client()
    client.set_cookie(payload["cookie_name"], payload["cookie"])
    with app.app_context():
        engine = db.engine
    seen: list[tuple[str, object]] = []

    def on_execute(_conn, _cursor, statement, parameters, _context, _executemany):
        seen.append((statement, parameters))

    first = client.get(ROWS_PATH)
    if first.status_code != 200:
        raise SystemExit(f"GET {ROWS_PATH} answered {first.status_code} in the app ({first.headers.get('Location')})")
    etag = first.headers.get("ETag", "")
    requests_ = {"livez": (LIVEZ_PATH, {}), "page": (PAGE_PATH, {}), "rows304": (ROWS_PATH, {"If-None-Match": etag}),
                 "rows200": (ROWS_PATH, {})}
    out: dict = {"etag": etag, "counts": {}, "statuses": {}, "statements": {}}
    for key, (path, headers) in requests_.items():
        client.get(path, headers=headers)  # warm the caches (settings, wards)
        counts, statuses = [], []
        for _ in range(payload.get("repeat", 5)):
            seen.clear()
            event.listen(engine, "before_cursor_execute", on_execute)
            try:
                response = client.get(path, headers=headers)
            finally:
                event.remove(engine, "before_cursor_execute", on_execute)
            counts.append(len(seen))
            statuses.append(response.status_code)
            if key == "page":
                m = re.search(r'data-open-count="(\d+)"', response.get_data(as_text=True))
                out["open_rows_on_page"] = int(m.group(1)) if m else None
        out["counts"][key], out["statuses"][key] = counts, statuses
        out["statements"][key] = [" ".join(s.split()) for s, _ in seen]
        if key == "rows200":
            captured = list(seen)
    if payload.get("plans"):
        out["plans"] = _inapp_plans(engine, captured, payload.get("timing_runs", 50))
    return out


def _inapp_plans(engine, captured: list, runs: int) -> dict:
    found = {}
    for statement, params in captured:
        flat = " ".join(statement.split())
        if flat.startswith("SELECT max(concern.updated_at)"):
            found.setdefault("etag", (statement, params))
        elif flat.startswith("SELECT concern.") and "ORDER BY CASE" in flat:
            found.setdefault("queue", (statement, params))
    out = {}
    with engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"
        for key, (statement, params) in found.items():
            prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = [" | ".join(str(c) for c in row) for row in conn.exec_driver_sql(prefix + statement, params)]
            if not postgres:  # (id, parent, notused, detail): show the detail
                plan = [str(row[3]) for row in conn.exec_driver_sql(prefix + statement, params)]
            analyzed = []
            if postgres:
                analyzed = [row[0] for row in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)]
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                rows = conn.exec_driver_sql(statement, params).fetchall()
                times.append((time.perf_counter() - t0) * 1000)
            text = " ".join(plan)
            if postgres:
                uses_index = "Index" in text and "Seq Scan on concern" not in text
            else:
                uses_index = ("USING INDEX" in text or "USING COVERING INDEX" in text) and not re.search(
                    r"\bSCAN concern\b(?! USING)", text)
            out[key] = {"sql": " ".join(statement.split()), "params": repr(params), "plan": plan,
                        "analyze": analyzed, "ms_median": statistics.median(times), "ms_min": min(times),
                        "rows": len(rows), "uses_index": uses_index}
        conn.rollback()
    missing = {"queue", "etag"} - set(out)
    if missing:
        out["missing"] = sorted(missing)
    return out


# --- one database's run ----------------------------------------------------------------------------------


@dataclass
class DbReport:
    db: object
    seeded: dict = field(default_factory=dict)
    counts_small: dict = field(default_factory=dict)
    counts_large: dict = field(default_factory=dict)
    small_open: int = 0
    large_open: int = 0
    statements: dict = field(default_factory=dict)
    plans: dict = field(default_factory=dict)
    preflight: dict = field(default_factory=dict)
    rounds: list[dict] = field(default_factory=list)
    warmups: list = field(default_factory=list)
    etags: list[str] = field(default_factory=list)
    discarded: list = field(default_factory=list)  # disturbed runs measured again
    log_errors: list[str] = field(default_factory=list)
    worker_boots: int = 0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http_get(url: str, headers: dict[str, str]) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    opener = urllib.request.build_opener(_NoRedirect())
    try:
        with opener.open(request, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode(errors="replace")


def preflight(server, cookie_name: str, cookie: str, expected_open: int, workdir: Path) -> dict:
    """One signed-in look from Python: the page answers 200 with the open calls; the cookie it
    returns (with the CSRF token the page put in the session) is what a browser would send from
    then on; the refresh answers 200 with an ETag, then 304 to that ETag."""
    status, headers, html = http_get(server.base + PAGE_PATH, {"Cookie": f"{cookie_name}={cookie}"})
    if status != 200:
        raise BenchError(f"GET {PAGE_PATH} signed in answered {status} (Location: {headers.get('location')}), not 200")
    m = re.search(r'data-open-count="(\d+)"', html)
    open_count = int(m.group(1)) if m else -1
    rows = len(re.findall(r"<tr role=\"row\" class=\"nhsuk-table__row\" data-concern=", html))
    if open_count != expected_open or rows != expected_open:
        raise BenchError(f"GET {PAGE_PATH} shows {open_count} open calls ({rows} rows), expected {expected_open}")
    set_cookie = headers.get("set-cookie", "")
    m = re.match(rf"{re.escape(cookie_name)}=([^;]+)", set_cookie)
    if m:
        cookie = m.group(1)
    status2, headers2, _ = http_get(server.base + PAGE_PATH, {"Cookie": f"{cookie_name}={cookie}"})
    cookie_header = f"{cookie_name}={cookie}"
    status3, headers3, rows_html = http_get(server.base + ROWS_PATH, {"Cookie": cookie_header})
    etag = headers3.get("etag", "")
    if status3 != 200 or not etag:
        raise BenchError(f"GET {ROWS_PATH} answered {status3} with ETag {etag!r}")
    (workdir / "queue-page.html").write_text(html)  # for a look afterwards (--keep)
    (workdir / "queue-rows.html").write_text(rows_html)
    status4, _, _ = http_get(server.base + ROWS_PATH, {"Cookie": cookie_header, "If-None-Match": etag})
    if status4 != 304:
        raise BenchError(f"GET {ROWS_PATH} with If-None-Match: {etag} answered {status4}, not 304")
    return {"cookie": cookie, "etag": etag, "page_bytes": len(html.encode()), "rows_bytes": len(rows_html.encode()),
            "open_rows": rows, "page_status_again": status2, "sets_cookie_every_time": bool(headers2.get("set-cookie")),
            "recently_closed": html.count('<ul class="nhsuk-list tracker-closed">') and
            html.split('<ul class="nhsuk-list tracker-closed">', 1)[1].split("</ul>", 1)[0].count("<li>")}


def run_database(db, opts, workdir: Path) -> DbReport:
    report = DbReport(db)
    port = opts.port or sb.free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"RATELIMIT_STORAGE_URI", "TRUSTED_HOSTS", "PROXY_HOPS"}}
    env.update({
        "TRACKER_CONFIG": "benchmark",
        "DATABASE_URL": db.url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TRACKER_INSTANCE_DIR": str(workdir),
        "SMS_BACKEND": "console",
        "SMS_CONSOLE_LOG": str(workdir / "sms-console.jsonl"),
        "PYTHONUNBUFFERED": "1",
    })
    log(f"\n=== {db.label}: {db.url} ===")
    db.create()
    for args in (("db", "upgrade"), ("tracker", "seed-demo")):
        done = sb.run_flask(env, *args)
        if done.returncode != 0:
            raise BenchError(f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    log("  migrated and seeded the demo trust")

    session = run_inapp(env, "session", {})
    cookie_name, cookie = session["cookie_name"], session["cookie"]
    trust = find_trust(db, session["user_id"])
    log(f"  signed in outreach clinician {BENCH_EMAIL} (user {session['user_id']}, team {TEAM}) with a server-side"
        " session")

    rng = random.Random(opts.seed)
    small, large = opts.open_small, opts.open
    history = seed_concerns(db, trust, 0, opts.history, open_calls=False, rng=rng)
    first_open = seed_concerns(db, trust, opts.history, small, open_calls=True, rng=rng)
    analyze(db)
    log(f"  inserted {opts.history:,} historic concerns ({history['messages']:,} family texts) in "
        f"{history['seconds']:.1f} s, and {small} open ones")
    counted = run_inapp(env, "count", {"cookie_name": cookie_name, "cookie": cookie, "repeat": opts.count_repeat})
    report.counts_small, report.small_open = counted["counts"], counted.get("open_rows_on_page")
    more = seed_concerns(db, trust, opts.history + small, large - small, open_calls=True, rng=rng)
    analyze(db)
    log(f"  counted SQL statements with {small} open calls; added {large - small} more open calls "
        f"({first_open['messages'] + more['messages']} messages for the open calls); "
        + ("VACUUM ANALYZE" if db.kind == "postgres" else "ANALYZE"))
    counted = run_inapp(env, "count", {"cookie_name": cookie_name, "cookie": cookie, "repeat": opts.count_repeat,
                                       "plans": True})
    report.counts_large, report.large_open = counted["counts"], counted.get("open_rows_on_page")
    report.statements, report.plans = counted["statements"], counted.get("plans", {})
    report.seeded = {
        "concerns": db.count("concern"), "messages": db.count("message"),
        "open": query(db, "SELECT count(*) FROM concern WHERE status IN ('new', 'acknowledged', 'reviewed')")[0][0],
        "closed_last_24h": query(db, "SELECT count(*) FROM concern WHERE status IN ('closed', 'cancelled') AND "
                                     "updated_at >= ?", (_db_time(db, datetime.now(UTC) - timedelta(hours=24)),))[0][0],
        "audit_events": db.count("audit_event"),
    }
    log(f"  counted again with {large} open calls, and captured the query plans")

    server = sb.Server(env, port, opts.workers, workdir / f"gunicorn-{db.kind}.log")
    try:
        server.start()
        log(f"  gunicorn -k sync -w {opts.workers} on 127.0.0.1:{port} (pid {server.process.pid}, "
            f"workers {server.worker_pids()})")
        report.preflight = preflight(server, cookie_name, cookie, report.seeded["open"], workdir)
        cookie = report.preflight["cookie"]
        etag = report.preflight["etag"]
        log(f"  preflight: {PAGE_PATH} 200 with {report.preflight['open_rows']} open rows "
            f"({report.preflight['page_bytes']:,} bytes); {ROWS_PATH} 200 ({report.preflight['rows_bytes']:,} bytes), "
            f"ETag {etag}, then 304")
        cookie_header = f"{cookie_name}={cookie}"
        scripts = {}
        for key, (_path, expected, _label) in ENDPOINTS.items():
            headers = {} if key == "livez" else {"Cookie": cookie_header}
            if key == "rows304":
                headers["If-None-Match"] = etag
            scripts[key] = write_get_lua(workdir, f"{key}-{db.kind}.lua", expected, headers)
        wrk_opts = {"threads": opts.threads, "connections": opts.connections}

        etags = {etag}

        def one(key: str, duration: float, label: str):
            if key == "rows304":
                # The version includes the hour (closed calls leave the list after a day), so every
                # client gets one full refresh when the hour turns: keep each 304 run inside one hour,
                # and ask for the current ETag just before it.
                wait_for_the_hour(duration)
                status, headers, _ = http_get(server.base + ROWS_PATH, {"Cookie": cookie_header})
                current = headers.get("etag", "")
                if status != 200 or not current:
                    raise BenchError(f"GET {ROWS_PATH} answered {status} with ETag {current!r} before {label}")
                etags.add(current)
                scripts[key] = write_get_lua(workdir, f"{key}-{db.kind}.lua", 304,
                                             {"Cookie": cookie_header, "If-None-Match": current})
            warm_up = label.startswith("warm-up")
            best = None
            for attempt in range(1 if warm_up else 1 + opts.retries):
                if opts.quiet_wait > 0 and not warm_up:
                    sb.wait_until_quiet(server, db, opts.quiet_wait)
                r = sb.run_wrk(server, db, scripts[key], ENDPOINTS[key][0], label, duration=duration, args=[],
                               **wrk_opts)
                r.drain_s = wait_until_idle(server)
                if best is not None:
                    report.discarded.append(r if (r.foreign_cpu_pct or 0) > (best.foreign_cpu_pct or 0) else best)
                if best is None or (r.foreign_cpu_pct or 0) < (best.foreign_cpu_pct or 0):
                    best = r
                if warm_up or not disturbed(r):
                    break
                if attempt < opts.retries:
                    log(f"    {label}: {r.foreign_cpu_pct:.0f}% foreign CPU during the run: measuring it again")
            best.attempts = attempt + 1
            return best

        if opts.warmup > 0:
            for key in ORDER:
                r = one(key, opts.warmup, f"warm-up {key}")
                report.warmups.append(r)
                if r.errors:
                    log(f"  warm-up {key}: {r.errors} errors, statuses {r.statuses}")
        log(f"  warm-up done ({opts.warmup:g} s each, not counted); measuring {opts.rounds} round(s) of "
            f"{opts.duration:g} s per endpoint")
        for n in range(opts.rounds):
            order = ORDER[n % len(ORDER):] + ORDER[:n % len(ORDER)]
            results = {key: one(key, opts.duration, f"round {n + 1} {key}") for key in order}
            report.rounds.append(results)
            log(f"  round {n + 1} ({', '.join(order)}): " + "; ".join(describe(key, results[key]) for key in ORDER))
        report.etags = sorted(etags)
        log_text = server.log_path.read_text(errors="replace")
        report.log_errors = [ln for ln in log_text.splitlines()
                             if re.search(r"\b(ERROR|CRITICAL|Traceback|WORKER TIMEOUT)\b", ln)]
        report.worker_boots = len(re.findall(r"Booting worker", log_text))
    finally:
        server.stop()
    return report


def wait_for_the_hour(duration: float, margin: float = 20.0) -> None:
    """If a run starting now could cross the top of the hour (UTC), wait until just past it."""
    now = datetime.now(UTC)
    left = ((now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0) - now).total_seconds()
    if left < duration + margin:
        log(f"    the refresh's ETag changes at the top of the hour, in {left:.0f} s: waiting for it")
        time.sleep(left + 2)


def wait_until_idle(server, limit: float = 30.0) -> float:
    """After a wrk run gunicorn still answers what was queued (up to one request per connection,
    which wrk no longer waits for): wait until its workers stop using CPU, so the next run starts
    on an idle server. Returns the seconds waited."""
    t0 = time.monotonic()
    last = sum(sb.process_ticks(p) for p in server.pids())
    quiet = 0
    while time.monotonic() - t0 < limit:
        time.sleep(0.1)
        now = sum(sb.process_ticks(p) for p in server.pids())
        quiet = quiet + 1 if now - last <= 1 else 0
        last = now
        if quiet >= 3:
            break
    return time.monotonic() - t0


def _db_time(db, moment: datetime):
    return _sqlite_value(moment) if db.kind == "sqlite" else moment


def disturbed(r) -> bool:
    return r.foreign_cpu_pct is not None and r.foreign_cpu_pct > DISTURBED_FOREIGN_CPU


def describe(key: str, r) -> str:
    foreign = f" [{r.foreign_cpu_pct:.0f}% foreign]" if r.foreign_cpu_pct is not None else ""
    return f"{key} {r.rps:,.0f} req/s p99 {r.p99_ms:.0f} ms{f' {r.errors} err' if r.errors else ''}{foreign}"


# --- the summary --------------------------------------------------------------------------------------------


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def counts_text(counts: list[int]) -> str:
    distinct = sorted(set(counts))
    return str(distinct[0]) if len(distinct) == 1 else f"{min(counts)}-{max(counts)} ({', '.join(map(str, counts))})"


def constant(small: list[int], large: list[int]) -> bool:
    """No N+1: the usual count is the same with 20 and 200 open calls (an occasional extra
    statement from a cache expiring, or the 30-s session touch, is not growth)."""
    return min(large) == min(small) and max(large) <= max(small) + 2 and max(small) <= min(small) + 2


def summarise(reports: list[DbReport], opts, versions: dict) -> dict:
    log("\n" + "=" * 110)
    log("SETTINGS")
    log(f"  gunicorn -k sync -w {opts.workers} (no access log) | wrk -t{opts.threads} -c{opts.connections} "
        f"-d{opts.duration:g}s --latency --timeout 10s | warm-up {opts.warmup:g} s per endpoint | "
        f"{opts.rounds} round(s), order rotating")
    log(f"  data: {opts.history:,} historic concerns (closed 85 % / cancelled 15 %, over 2 years, team {TEAM}'s "
        f"3 wards) + {opts.open} open (new / acknowledged / reviewed, last 6 h); signed in as an outreach clinician")
    log("  " + " | ".join(f"{k} {v}" for k, v in versions.items()))
    log(f"  code: {git_state()}")

    summary: dict = {}
    for rep in reports:
        s = rep.seeded
        log(f"\nDATA {rep.db.label}: {s['concerns']:,} concerns ({s['open']} open, {s['closed_last_24h']} closed or "
            f"cancelled in the last 24 h), {s['messages']:,} messages, {s['audit_events']} audit events; page "
            f"{rep.preflight['page_bytes']:,} bytes with {rep.preflight['open_rows']} open rows and "
            f"{rep.preflight['recently_closed']} recently closed; refresh {rep.preflight['rows_bytes']:,} bytes")
        if rep.preflight.get("sets_cookie_every_time"):
            log("  note: the page sets a new session cookie on every request even with the cookie it gave")

    log("\nSQL STATEMENTS PER REQUEST (in the app, test client, same cookie; each counted "
        f"{opts.count_repeat} times after one warm-up request; SQLite counts its BEGIN)")
    log(f"  {'database':<13}{'endpoint':<48}{f'{opts.open_small} open':>12}{f'{opts.open} open':>12}  constant")
    for rep in reports:
        for key in ORDER:
            small, large = rep.counts_small.get(key, [0]), rep.counts_large.get(key, [0])
            log(f"  {rep.db.label:<13}{ENDPOINTS[key][2]:<48}{counts_text(small):>12}{counts_text(large):>12}  "
                f"{'yes' if constant(small, large) else 'NO: grows with the rows (N+1?)'}")
    if opts.show_sql:
        for rep in reports:
            for key in ("page", "rows304"):
                log(f"  {rep.db.label} {key}: the statements of one request")
                for i, stmt in enumerate(rep.statements.get(key, []), 1):
                    log(f"    {i:>2}. {stmt[:150]}{'...' if len(stmt) > 150 else ''}")

    log("\nQUERY PLANS (the statements the app sent for the refresh, with its parameters; "
        f"time = median of {opts.timing_runs} runs in the app's process)")
    for rep in reports:
        for key, title in (("queue", "queue: open concerns of the team, in the queue's order"),
                           ("etag", "queue_version(): the ETag's query (latest change of the team's concerns)")):
            plan = rep.plans.get(key)
            if not plan:
                log(f"  {rep.db.label} {title}: NOT CAPTURED")
                continue
            log(f"  {rep.db.label} | {title}")
            log(f"    {plan['ms_median']:.2f} ms median ({plan['ms_min']:.2f} min), {plan['rows']} row(s); "
                f"index used: {'yes' if plan['uses_index'] else 'NO'}")
            for line in plan["analyze"] or plan["plan"]:
                log(f"      {line}")

    log("\nPER ROUND (foreign CPU = machine CPU used by processes other than gunicorn, its PostgreSQL "
        "backends and wrk;\n  server CPU = gunicorn + PostgreSQL backends per request; ratio = req/s ÷ /livez "
        "req/s of the same round)")
    log(f"  {'database':<13}{'round':>5} {'endpoint':<9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'errors':>8}{'ratio':>8}{'srv ms/req':>11}{'foreign%':>10}  note")
    disturbed_any = False
    for rep in reports:
        for n, results in enumerate(rep.rounds, 1):
            for key in ORDER:
                r = results[key]
                is_disturbed = disturbed(r)
                disturbed_any |= is_disturbed
                ratio = r.rps / results["livez"].rps if results["livez"].rps else 0
                log(f"  {rep.db.label:<13}{n:>5} {key:<9}{r.rps:>9,.0f}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}"
                    f"{r.max_ms:>9.1f}{r.errors:>8}{ratio:>8.3f}"
                    f"{(r.server_ms_per_req or 0):>11.2f}{(r.foreign_cpu_pct or 0):>10.1f}"
                    f"  {'DISTURBED (other work on the machine)' if is_disturbed else ''}"
                    f"{f' (least disturbed of {r.attempts} runs)' if getattr(r, 'attempts', 1) > 1 else ''}")

    log("\nRESULTS (medians over rounds; ratio = median of the same-round req/s ratios to /livez, over the rounds in"
        " which\n  neither run was disturbed; cpu ratio = /livez server CPU per request ÷ this endpoint's, a check that"
        " noise\n  hardly moves; errors include warm-up runs and runs measured again)")
    log(f"  {'database':<13}{'endpoint':<48}{'req/s':>8}{'p50':>8}{'p99':>8}{'ratio':>8}{'rounds':>7}{'cpu ratio':>10}"
        f"{'srv ms/req':>11}{'errors':>8}   (ms)")
    for rep in reports:
        row = {}
        for key in ORDER:
            runs = [res[key] for res in rep.rounds]
            # Ratios from the rounds where neither this run nor /livez's was disturbed (a slowed /livez
            # run inflates the ratio as much as a slowed page deflates it); all rounds if none was clean.
            clean = [res for res in rep.rounds if not disturbed(res[key]) and not disturbed(res["livez"])]
            ratios = [res[key].rps / res["livez"].rps for res in (clean or rep.rounds) if res["livez"].rps]
            cpu_ratios = [res["livez"].server_ms_per_req / res[key].server_ms_per_req for res in rep.rounds
                          if res[key].server_ms_per_req and res["livez"].server_ms_per_req]
            warm = [w for w in rep.warmups if w.label.endswith(key)]
            thrown = [d for d in rep.discarded if d.label.endswith(key)]
            row[key] = {
                "rps": median([r.rps for r in runs]), "p50_ms": median([r.p50_ms for r in runs]),
                "p99_ms": median([r.p99_ms for r in runs]), "ratio": median(ratios),
                "server_ms_per_req": median([r.server_ms_per_req for r in runs]),
                "ratio_rounds": len(clean) or f"all {len(rep.rounds)} (none undisturbed)",
                "cpu_ratio": median(cpu_ratios),
                "errors": sum(r.errors for r in [*runs, *warm, *thrown]),
                "statuses": _sum_statuses([*runs, *warm, *thrown]), "remeasured": len(thrown),
                "foreign_cpu_pct_max": max((r.foreign_cpu_pct or 0) for r in runs),
                "rounds": [vars(r) for r in runs],
            }
            v = row[key]
            rounds_used = v["ratio_rounds"] if isinstance(v["ratio_rounds"], int) else "all*"
            log(f"  {rep.db.label:<13}{ENDPOINTS[key][2]:<48}{v['rps']:>8,.0f}{v['p50_ms']:>8.1f}{v['p99_ms']:>8.1f}"
                f"{v['ratio']:>8.3f}{rounds_used:>7}{(v['cpu_ratio'] or 0):>10.3f}{(v['server_ms_per_req'] or 0):>11.2f}"
                f"{v['errors']:>8}")
        if any(not isinstance(row[k]["ratio_rounds"], int) for k in ORDER):
            log("  (all*: no round was undisturbed for that endpoint and /livez: its ratio uses every round; rerun"
                " when the machine is quiet)")
        summary[rep.db.kind] = {
            "endpoints": row, "seeded": rep.seeded, "preflight": {k: v for k, v in rep.preflight.items() if k != "cookie"},
            "statements": {"small_open": rep.small_open, "large_open": rep.large_open, "small": rep.counts_small,
                           "large": rep.counts_large, "sql": rep.statements},
            "plans": rep.plans, "etags": rep.etags,
        }

    log("\nTARGETS")
    for rep in reports:
        row = summary[rep.db.kind]["endpoints"]
        log(f"  {rep.db.label}")
        for key, target in TARGETS.items():
            log(f"    {ENDPOINTS[key][2]}: {row[key]['ratio']:.3f} x /livez >= {target}".ljust(86)
                + verdict(row[key]["ratio"] >= target))
        log(f"    refresh with If-None-Match: answers other than 304, and socket errors: {row['rows304']['errors']} == 0"
            .ljust(86) + verdict(row["rows304"]["errors"] == 0))
        others = sum(row[k]["errors"] for k in ("livez", "page", "rows200"))
        log(f"    errors on the other endpoints: {others} == 0".ljust(86) + verdict(others == 0))
        grows = [k for k in ("page", "rows304", "rows200")
                 if not constant(rep.counts_small.get(k, [0]), rep.counts_large.get(k, [0]))]
        log(f"    SQL statements per request the same with {rep.small_open} and {rep.large_open} open calls".ljust(86)
            + verdict(not grows) + (f"  grows: {grows}" if grows else ""))
        for key, name in (("queue", "queue query"), ("etag", "ETag query")):
            plan = rep.plans.get(key)
            log(f"    {name} uses an index ({plan['ms_median']:.2f} ms)".ljust(86) + verdict(plan["uses_index"])
                if plan else f"    {name}: plan not captured".ljust(86) + "FAIL")
        log(f"    (for information: full refresh {row['rows200']['ratio']:.3f} x /livez; reference: {REFERENCE})")
        if len(rep.etags) > 1:
            log(f"    note: the refresh's ETag changed {len(rep.etags) - 1} time(s) during the run (it includes the hour;"
                " the script fetches it before each 304 run): " + ", ".join(rep.etags))
        if rep.log_errors:
            log(f"    server log: {len(rep.log_errors)} error line(s), e.g. {rep.log_errors[0][:160]}")
        if rep.worker_boots > opts.workers:
            log(f"    server log: workers booted {rep.worker_boots} times for {opts.workers} workers (restarts)")
    if disturbed_any:
        log(f"\nNOTE: at least one run had more than {DISTURBED_FOREIGN_CPU:.0f}% foreign CPU: other work was running;"
            " compare ratios within a round, and rerun when the machine is quiet.")
    return summary


def git_state() -> str:
    """The commit measured, and whether tracked files had uncommitted changes (they are measured too)."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "?"
    changed = [ln for ln in git("status", "--porcelain", "--untracked-files=no").splitlines() if ln.strip()]
    return f"{commit}" + (f" plus uncommitted changes to {len(changed)} tracked file(s)" if changed else " (clean)")


def _sum_statuses(runs) -> dict:
    total: dict[str, int] = {}
    for r in runs:
        for k, v in r.statuses.items():
            total[k] = total.get(k, 0) + v
    return total


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--duration", type=float, default=10, help="seconds per measured wrk run (default 10)")
    p.add_argument("--rounds", type=int, default=3, help="rounds of the four endpoints (default 3)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    p.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per endpoint (default 2)")
    p.add_argument("--history", type=int, default=100_000, help="historic (closed or cancelled) concerns (100,000)")
    p.add_argument("--open", type=int, default=200, help="open concerns for the measurement (default 200)")
    p.add_argument("--open-small", type=int, default=20,
                   help="open concerns for the first statement count (default 20)")
    p.add_argument("--count-repeat", type=int, default=5, help="requests counted per endpoint (default 5)")
    p.add_argument("--timing-runs", type=int, default=50, help="runs of each captured query for its time (default 50)")
    p.add_argument("--seed", type=int, default=1, help="random seed for the data (default 1)")
    p.add_argument("--show-sql", action="store_true", help="print the statements of one page and one 304 request")
    p.add_argument("--quiet-wait", type=float, default=30,
                   help=f"before each measured run, wait up to this many seconds for other work on the machine to"
                        f" drop below {DISTURBED_FOREIGN_CPU:.0f}%% CPU (default 30; 0: do not wait)")
    p.add_argument("--retries", type=int, default=2,
                   help=f"measure a run again, up to this many times, when other work took more than "
                        f"{DISTURBED_FOREIGN_CPU:.0f}%% of the CPU during it; the least disturbed run is kept (default 2)")
    p.add_argument("--port", type=int, default=0, help="gunicorn port (default: a free one)")
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file (bench/results/ is ignored by git)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, Lua, SQLite file)")
    opts = p.parse_args(argv)
    if opts.rounds < 1 or opts.duration <= 0 or opts.connections < opts.threads:
        p.error("need --rounds >= 1, --duration > 0 and --connections >= --threads")
    if not 0 < opts.open_small < opts.open:
        p.error("need 0 < --open-small < --open")
    return opts


def main(argv=None) -> int:
    opts = parse_args(argv)
    if not shutil.which("wrk"):
        log("wrk is not installed (apt-get install wrk)")
        return 2
    signal.signal(signal.SIGTERM, sb._terminate)
    signal.signal(signal.SIGHUP, sb._terminate)
    dbs = []
    if opts.db in ("postgres", "both") and not sb.postgres_answers():
        log(f"PostgreSQL SKIPPED: nothing answers on {sb.PG_HOST}:{sb.PG_PORT} (start PostgreSQL to measure it)")
        if opts.db == "postgres":
            return 2
    workdir = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    if opts.db in ("sqlite", "both"):
        dbs.append(SqliteDatabase(workdir))
    if opts.db in ("postgres", "both") and sb.postgres_answers():
        dbs.append(PostgresDatabase())
    log(f"bench/queue.py: {', '.join(d.label for d in dbs)}; temporary files in {workdir}")
    reports: list[DbReport] = []
    failed = []
    try:
        info = sb.versions(dbs)
        for db in dbs:
            try:
                reports.append(run_database(db, opts, workdir))
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
        log("\ninterrupted: stopped the server and removed the temporary data")
        return 130
    finally:
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
    if len(sys.argv) >= 3 and sys.argv[1] == "_inapp":
        sys.exit(_inapp_main(sys.argv[2]))
    sys.exit(main())
