#!/usr/bin/env python3
"""Benchmark: the managers' reports with 1,000,000 audit rows and 200,000 calls, on gunicorn.

A measurement, not a test: it prints figures and PASS/FAIL against the targets, and exits 0 even
when a target is missed (non-zero only when it could not measure at all).

Exports half (this file). For each database (SQLite: a fresh file in a temporary directory;
PostgreSQL: a fresh database bench_reports_<pid> on 127.0.0.1:5432, dropped at the end) it:

1. runs the migrations and `flask tracker seed-demo` with TRACKER_CONFIG=benchmark, then writes
   200,000 calls with their texts and 1,000,000 audit rows whose hash chain verifies
   (bench/report_data.py, shared with the dashboard half);
2. creates a manager of site ngh (with an authenticator, password changed) and a server-side
   session, and signs Flask's session cookie with the app's own serializer;
3. checks once, not timed, that the audit export through the app has as many rows as the
   database's own query, in the chain's order, with the chain's hashes;
4. for N rounds: starts `gunicorn -k sync -w 1` afresh, warms it up with the exports page, then
   downloads the audit log of the whole period with curl (POST /records/exports/audit, the
   manager's cookie and CSRF token), recording the time to first byte, the total time and the
   worker's peak memory (VmHWM) against its memory before; and, in the same round, times the
   database's own dump of the same rows (`sqlite3 -csv`, `psql -c "COPY (...) TO STDOUT CSV"`),
   alternating which goes first;
5. once: the calls export as CSV and as Excel (time, first byte, memory), `flask tracker
   verify-audit` on the whole chain, and the audit viewer's pages (first view, which checks up to
   100,000 new events; then the newest page, a search by action and by person, and the second
   page), median of 5;
6. the dashboard half (bench/reports_dashboard.py), when present, with the same server and data.

Usage (from the repository root):

    .venv/bin/python bench/reports.py                    # both databases, 3 rounds
    .venv/bin/python bench/reports.py --db sqlite --rounds 1 --audit-rows 200000 --concerns 50000

See bench/README.md for what it prints.
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

# bench/ holds queue.py, named like the standard library's `queue`: keep the folder off sys.path
# (Python puts a script's folder first) and load our neighbours by file instead.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != HERE]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


report_data = _load("report_data")
sb = _load("submit")

REPO, PYTHON, log, BenchError = sb.REPO, sb.PYTHON, sb.log, sb.BenchError
SITE = "ngh"
BENCH_EMAIL = "bench.manager@demo-hospitals.invalid"
TZ = ZoneInfo("Europe/London")
TARGETS = {"sqlite": 0.10, "postgres": 0.5, "ttfb_s": 1.0, "memory_mib": 100.0}
REFERENCE = ("perf-reference: a plain cursor + csv.writer stream reaches 0.11-0.17 x the database's own dump; "
             "PostgreSQL COPY passed through psycopg 3 reaches 0.89 x psql COPY")

# The database's own dump of what the audit export sends (tracker/services/exports.py _audit_select).
DUMP_SQL = (
    "SELECT a.id, a.occurred_at, a.actor_type, a.actor_id, u.email, a.action, a.object_type, a.object_id, "
    "c.reference, a.changes, a.prev_hash, a.hash FROM audit_event AS a "
    "LEFT OUTER JOIN concern AS c ON c.id = a.concern_id "
    "LEFT OUTER JOIN user_account AS u ON a.actor_type = 'user' AND u.id = a.actor_id "
    "WHERE a.occurred_at >= {lo} AND a.occurred_at < {hi} AND (a.concern_id IS NULL OR c.site_id = {site}) "
    "ORDER BY {order}"
)
# The export's order: SQLite reads it from the occurred_at index, PostgreSQL from the primary key
# (with sorting switched off for the COPY, as the app does).
ORDER = {"sqlite": ("a.occurred_at, a.id", "a.occurred_at DESC, a.id DESC"), "postgres": ("a.id", "a.id DESC")}


class PostgresDatabase(sb.PostgresDatabase):
    def __init__(self):
        super().__init__()
        self.name = f"bench_reports_{os.getpid()}"
        self.url = f"postgresql+psycopg://{sb.PG_USER}@{sb.PG_HOST}:{sb.PG_PORT}/{self.name}"


# --- in the app --------------------------------------------------------------------------------


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
    result = {"session": _inapp_session}[command](app, payload)
    print("INAPP_RESULT " + json.dumps(result, default=str), flush=True)
    return 0


def _inapp_session(app, payload: dict) -> dict:
    """A manager of site ngh (password changed, authenticator set up) with a live server-side
    session, and the Flask session cookie that names it (as tests/conftest.py sign_in_directly)."""
    import pyotp
    from sqlalchemy import select

    from tracker.clock import utcnow
    from tracker.db import write_intent
    from tracker.extensions import db
    from tracker.models import Role, Site
    from tracker.services import audit, auth
    from tracker.services.users import create_user

    with app.app_context(), write_intent():
        site = db.session.scalar(select(Site).where(Site.code == SITE))
        user, _password = create_user(audit.Actor.cli(), email=BENCH_EMAIL, display_name="Bench Manager",
                                      role=Role.MANAGER, site=site)
        user.must_change_password = False
        user.password_changed_at = utcnow()
        user.totp_secret = pyotp.random_base32()
        token, record = auth.start_session(user, user_agent="bench/reports.py", address="127.0.0.1")
        db.session.commit()
        ids = {"user_id": user.id, "session_id": record.id, "site_id": site.id}
    with app.test_request_context():
        cookie = app.session_interface.get_signing_serializer(app).dumps({"_user_id": token, "_fresh": True})
    return {**ids, "cookie_name": app.config["SESSION_COOKIE_NAME"], "cookie": cookie}


# --- helpers -------------------------------------------------------------------------------------


def db_time(db, moment: datetime):
    return report_data._sqlite_value(moment) if db.kind == "sqlite" else moment


def execute(db, sql: str, params: tuple = ()) -> list[tuple]:
    with report_data.connect(db) as conn:
        return report_data.rows_of(conn, db, sql, params)


def refresh_sign_in(db, session_id: int) -> None:
    """Exports need a sign-in within 5 minutes: mark the bench session as just signed in."""
    with report_data.connect(db) as conn:
        sql = "UPDATE session_record SET authenticated_at = ?, last_active_at = ? WHERE id = ?"
        now = db_time(db, datetime.now(UTC))
        conn.execute(sql.replace("?", "%s") if db.kind == "postgres" else sql, (now, now, session_id))


def memory_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise BenchError(f"no {key} for process {pid}")


@dataclass
class Browser:
    """The manager's cookie and CSRF token, as a browser would hold them."""

    base: str
    cookie_name: str
    cookie: str
    token: str = ""

    def open_exports(self) -> None:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        request = urllib.request.Request(self.base + "/records/exports",  # noqa: S310 (loopback)
                                         headers={"Cookie": f"{self.cookie_name}={self.cookie}"})
        with opener.open(request, timeout=30) as response:  # noqa: S310 (loopback)
            html = response.read().decode()
            if response.status != 200 or "Download the audit log" not in html:
                raise BenchError(f"GET /records/exports answered {response.status} without the export forms")
        found = re.search(r'name="csrf_token" value="([^"]+)"', html)
        if not found:
            raise BenchError("no CSRF token on /records/exports")
        self.token = found.group(1)
        self.cookie = next((c.value for c in jar if c.name == self.cookie_name), self.cookie)

    def curl(self, path: str, form: dict, out: str = "/dev/null") -> dict:
        """POST with curl; returns status, time to first byte, total time and bytes."""
        data = urllib.parse.urlencode({"csrf_token": self.token, **form})
        done = subprocess.run(["curl", "-sS", "-o", out, "-w", "%{http_code} %{time_starttransfer} %{time_total} "
                               "%{size_download}", "-H", f"Cookie: {self.cookie_name}={self.cookie}",
                               "-H", f"Referer: {self.base}/records/exports", "--data", data, self.base + path],
                              capture_output=True, text=True, timeout=900)
        code, ttfb, total, size = done.stdout.split()
        return {"status": int(code), "ttfb": float(ttfb), "seconds": float(total), "bytes": int(size)}

    def get_ms(self, path: str) -> tuple[int, float]:
        started = time.monotonic()
        request = urllib.request.Request(self.base + path,  # noqa: S310 (loopback)
                                         headers={"Cookie": f"{self.cookie_name}={self.cookie}"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (loopback)
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        return status, (time.monotonic() - started) * 1000


def period_form(start: date, end: date) -> dict:
    return {"from-day": start.day, "from-month": start.month, "from-year": start.year,
            "to-day": end.day, "to-month": end.month, "to-year": end.year, "site": SITE}


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    lo = datetime.combine(start, dtime(0), TZ).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), dtime(0), TZ).astimezone(UTC)
    return lo, hi


def dump_sql(db, site_id: int, lo: datetime, hi: datetime) -> str:
    if db.kind == "sqlite":
        quote = "'{}'".format
        return DUMP_SQL.format(lo=quote(report_data._sqlite_value(lo)), hi=quote(report_data._sqlite_value(hi)),
                               site=int(site_id), order=ORDER["sqlite"][0])
    return DUMP_SQL.format(lo=f"'{lo.isoformat()}'::timestamptz", hi=f"'{hi.isoformat()}'::timestamptz",
                           site=int(site_id), order=ORDER["postgres"][0])


def native_dump(db, sql: str) -> float:
    """Seconds for the database's own CSV dump of `sql`, written to /dev/null."""
    if db.kind == "sqlite":
        cmd = ["sqlite3", "-csv", "-header", str(db.path), sql]
    else:
        cmd = ["psql", "-h", sb.PG_HOST, "-p", str(sb.PG_PORT), "-U", sb.PG_USER, "-d", db.name, "-X", "-q",
               "-v", "ON_ERROR_STOP=1", "-c", "SET enable_sort = off",
               "-c", f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)"]
    started = time.monotonic()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=900)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise BenchError(f"{cmd[0]} failed: {done.stderr[-2000:]}")
    return seconds


# --- one database ----------------------------------------------------------------------------------


@dataclass
class Round:
    export: dict
    dump_seconds: float
    baseline_kib: int
    peak_kib: int

    @property
    def growth_mib(self) -> float:
        return (self.peak_kib - self.baseline_kib) / 1024


@dataclass
class DbReport:
    db: object
    rows: int = 0
    data: dict = field(default_factory=dict)
    rounds: list[Round] = field(default_factory=list)
    extras: dict = field(default_factory=dict)
    dashboard: dict | None = None


class Server(sb.Server):
    """submit.py's gunicorn, with a worker timeout long enough for one large export (a sync worker
    is killed when one request outlasts --timeout: gunicorn's default of 30 s is too short for an
    Excel file of 200,000 calls on a busy machine)."""

    TIMEOUT = 900

    def start(self) -> None:
        cmd = [PYTHON, "-m", "gunicorn", "-k", "sync", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
               "--timeout", str(self.TIMEOUT), "--log-level", "warning", "--no-control-socket", "wsgi:app"]
        self.log_file = open(self.log_path, "ab")  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdout=self.log_file,  # noqa: S603
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(urllib.error.URLError, OSError):
                with urllib.request.urlopen(self.base + "/livez", timeout=2) as r:  # noqa: S310 (loopback)
                    if r.status == 200 and len(self.worker_pids()) >= self.workers:
                        return
            time.sleep(0.2)
        raise BenchError(f"gunicorn did not answer /livez within 30 s:\n{self.log_tail()}")


def start_server(env: dict, port: int, workdir: Path, db) -> Server:
    server = Server(env, port, 1, workdir / f"gunicorn-{db.kind}.log")
    server.start()
    return server


def measure_export(server, browser: Browser, db, session_id: int, path: str, form: dict) -> tuple[dict, int, int]:
    """One export on a freshly started worker: (curl figures, RSS before in KiB, peak in KiB)."""
    refresh_sign_in(db, session_id)
    browser.open_exports()  # warm-up: templates, imports, the connection pool
    worker = server.worker_pids()[0]
    baseline = memory_kib(worker, "VmRSS")
    result = browser.curl(path, form)
    if result["status"] != 200:
        raise BenchError(f"POST {path} answered {result['status']}:\n{server.log_tail()}")
    return result, baseline, memory_kib(worker, "VmHWM")


def run_database(db, opts, workdir: Path) -> DbReport:
    report = DbReport(db)
    port = opts.port or sb.free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"RATELIMIT_STORAGE_URI", "TRUSTED_HOSTS", "PROXY_HOPS"}}
    env.update({"TRACKER_CONFIG": "benchmark", "DATABASE_URL": db.url, "SECRET_KEY": secrets.token_urlsafe(48),
                "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "TRACKER_INSTANCE_DIR": str(workdir),
                "SMS_BACKEND": "console", "SMS_CONSOLE_LOG": str(workdir / "sms-console.jsonl"),
                "PYTHONUNBUFFERED": "1"})
    log(f"\n=== {db.label}: {db.url} ===")
    db.create()
    for args in (("db", "upgrade"), ("tracker", "seed-demo")):
        done = sb.run_flask(env, *args)
        if done.returncode != 0:
            raise BenchError(f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    log("  migrated and seeded the demo trust")
    report.data = report_data.seed(db, concerns=opts.concerns, audit_rows=opts.audit_rows, seed=opts.seed,
                                   log=log)
    session = run_inapp(env, "session", {})
    log(f"  signed in manager {BENCH_EMAIL} of site {SITE} (user {session['user_id']}) with a server-side session")

    today = datetime.now(TZ).date()
    start = today - timedelta(days=800)
    form = period_form(start, today)
    lo, hi = bounds(start, today)
    sql = dump_sql(db, session["site_id"], lo, hi)
    report.rows = execute(db, f"SELECT count(*) FROM ({sql}) AS q")[0][0]
    report.data["audit_events"] = db.count("audit_event")
    log(f"  the audit export covers {report.rows:,} of {report.data['audit_events']:,} events (site {SITE}'s calls, "
        f"and events about no call), {start} to {today}")

    server = start_server(env, port, workdir, db)
    browser = Browser(server.base, session["cookie_name"], session["cookie"])
    try:
        # Once, not timed: the file is complete and in the chain's order.
        refresh_sign_in(db, session["session_id"])
        browser.open_exports()
        check_path = workdir / f"audit-{db.kind}.csv"
        checked = browser.curl("/records/exports/audit", form, out=str(check_path))
        lines = check_path.read_text(encoding="utf-8-sig").splitlines()
        first, last = lines[1].split(","), lines[-1].split(",")
        # The export is audited before its first byte, so the file ends with its own event.
        report.rows = execute(db, f"SELECT count(*) FROM ({sql}) AS q")[0][0]
        # The first and last rows in the export's order (time, then id; the generated history
        # is older than the demo trust's own events, so that is not id order here).
        expected = (execute(db, sql + " LIMIT 1")[0][0],
                    execute(db, sql.replace(f"ORDER BY {ORDER[db.kind][0]}", f"ORDER BY {ORDER[db.kind][1]}")
                            + " LIMIT 1")[0][0])
        ok = (checked["status"] == 200 and len(lines) - 1 == report.rows
              and (int(first[0]), int(last[0])) == expected)
        report.extras["check"] = {"ok": ok, "rows_in_file": len(lines) - 1, "bytes": checked["bytes"]}
        check_path.unlink()
        log(f"  checked the file: {len(lines) - 1:,} rows, events {first[0]}..{last[0]}, "
            f"{checked['bytes'] / 1e6:.0f} MB: {'as the database has them' if ok else 'MISMATCH'}")
        server.stop()

        for number in range(1, opts.rounds + 1):
            server = start_server(env, port, workdir, db)
            browser.base = server.base
            dump_first = number % 2 == 0
            dump = native_dump(db, sql) if dump_first else None
            result, baseline, peak = measure_export(server, browser, db, session["session_id"],
                                                    "/records/exports/audit", form)
            if dump is None:
                dump = native_dump(db, sql)
            server.stop()
            r = Round(result, dump, baseline, peak)
            report.rounds.append(r)
            log(f"  round {number}: export {report.rows / result['seconds']:,.0f} rows/s "
                f"({result['seconds']:.2f} s, first byte {result['ttfb'] * 1000:.0f} ms, worker +{r.growth_mib:.1f} MiB); "
                f"{'sqlite3 -csv' if db.kind == 'sqlite' else 'psql COPY'} {report.rows / dump:,.0f} rows/s "
                f"({dump:.2f} s); ratio {dump / result['seconds']:.2f}")

        server = start_server(env, port, workdir, db)
        browser.base = server.base
        report.extras.update(measure_once(server, browser, db, session, form, opts, env))
        module = dashboard_module()
        if module is not None:
            report.dashboard = module.measure(DashboardContext(db=db, server=server, env=env, session=session,
                                                               opts=opts, workdir=workdir, log=log))
    finally:
        server.stop()
    return report


def measure_once(server, browser: Browser, db, session: dict, form: dict, opts, env: dict) -> dict:
    extras = {}
    concerns = report_data_count(db, session["site_id"])
    for kind in ("csv", "xlsx"):
        if kind == "xlsx" and opts.skip_excel:
            continue
        server.stop()
        server.start()
        browser.base = server.base
        try:
            result, baseline, peak = measure_export(server, browser, db, session["session_id"],
                                                    "/records/exports/concerns", {**form, "format": kind})
        except BenchError as problem:  # reported, and the rest still measured
            extras[f"concerns_{kind}"] = {"error": str(problem)[:500]}
            log(f"  calls export as {kind.upper()}: FAILED: {str(problem)[:300]}")
            continue
        extras[f"concerns_{kind}"] = {**result, "rows": concerns, "growth_mib": (peak - baseline) / 1024}
        log(f"  calls export as {kind.upper()}: {concerns:,} calls in {result['seconds']:.2f} s "
            f"({concerns / result['seconds']:,.0f} rows/s), first byte {result['ttfb'] * 1000:.0f} ms, "
            f"{result['bytes'] / 1e6:.1f} MB, worker +{(peak - baseline) / 1024:.1f} MiB")
    started = time.monotonic()
    done = sb.run_flask(env, "tracker", "verify-audit", timeout=1800)
    extras["verify_audit"] = {"seconds": time.monotonic() - started, "output": done.stdout.strip()[-200:],
                              "ok": done.returncode == 0}
    log(f"  flask tracker verify-audit: {extras['verify_audit']['seconds']:.1f} s: {extras['verify_audit']['output']}")
    # The viewer. verify-audit has just recorded a full checkpoint, so the first view has nothing new to check.
    first_ms = browser.get_ms("/records/audit")
    pages = {"newest": "/records/audit", "by action": "/records/audit?action=claimed",
             "by person": f"/records/audit?user={urllib.parse.quote(BENCH_EMAIL)}",
             "by call": "/records/audit?reference=" + latest_reference(db)}
    older = browser_second_page(browser)
    if older:
        pages["second page"] = older
    timings = {}
    for name, path in pages.items():
        runs = [browser.get_ms(path) for _ in range(5)]
        bad = [s for s, _ in runs if s != 200]
        timings[name] = {"median_ms": statistics.median(ms for _, ms in runs), "errors": len(bad)}
    extras["viewer"] = {"first_view_ms": first_ms[1], "pages": timings}
    log(f"  audit viewer: first view {first_ms[1]:.0f} ms (status {first_ms[0]}); "
        + "; ".join(f"{name} {t['median_ms']:.0f} ms" for name, t in timings.items()) + " (median of 5)")
    return extras


def report_data_count(db, site_id: int) -> int:
    today = datetime.now(TZ).date()
    lo, hi = bounds(today - timedelta(days=800), today)
    return execute(db, "SELECT count(*) FROM concern WHERE site_id = ? AND raised_at >= ? AND raised_at < ?",
                   (site_id, db_time(db, lo), db_time(db, hi)))[0][0]


def latest_reference(db) -> str:
    return execute(db, f"SELECT reference FROM concern c JOIN site s ON s.id = c.site_id WHERE s.code = '{SITE}' "
                       "ORDER BY c.id DESC LIMIT 1")[0][0]


def browser_second_page(browser: Browser) -> str | None:
    request = urllib.request.Request(browser.base + "/records/audit",  # noqa: S310 (loopback)
                                     headers={"Cookie": f"{browser.cookie_name}={browser.cookie}"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
        html = response.read().decode()
    found = re.search(r'href="(/records/audit\?[^"]*before=\d+[^"]*)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


# --- the dashboard half ----------------------------------------------------------------------------


@dataclass
class DashboardContext:
    """What the dashboard half gets: the database (with the data above), the running gunicorn
    (one sync worker), the app's environment, the manager's session (cookie_name, cookie,
    user_id, session_id, site_id), the options, the temporary directory and the logger."""

    db: object
    server: object
    env: dict
    session: dict
    opts: object
    workdir: Path
    log: object


def dashboard_module():
    """bench/reports_dashboard.py, if it exists: its `measure(context)` returns its figures and
    `summarise(reports)` prints them."""
    if not (HERE / "reports_dashboard.py").exists():
        return None
    return sys.modules.get("reports_dashboard") or _load("reports_dashboard")


# --- the summary ------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def summarise(reports: list[DbReport], opts, info: dict) -> dict:
    log("\n=== SETTINGS ===")
    log(f"  data: {opts.concerns:,} calls, {opts.audit_rows:,} audit rows (bench/report_data.py, seed {opts.seed}); "
        f"gunicorn -k sync -w 1 --timeout 900, restarted for every export; curl to /dev/null; {opts.rounds} rounds")
    for key, value in info.items():
        log(f"  {key}: {value}")
    summary = {}
    log("\n=== RESULTS (audit log export of the whole period, medians over rounds) ===")
    for r in reports:
        kind = r.db.kind
        export_rate = statistics.median(r.rows / x.export["seconds"] for x in r.rounds)
        dump_rate = statistics.median(r.rows / x.dump_seconds for x in r.rounds)
        ratio = statistics.median(x.dump_seconds / x.export["seconds"] for x in r.rounds)
        ttfb = statistics.median(x.export["ttfb"] for x in r.rounds)
        growth = max(x.growth_mib for x in r.rounds)
        dump_name = "sqlite3 -csv" if kind == "sqlite" else "psql COPY"
        log(f"  {r.db.label}: {r.rows:,} rows; export {export_rate:,.0f} rows/s; {dump_name} {dump_rate:,.0f} rows/s; "
            f"ratio {ratio:.2f}; first byte {ttfb * 1000:.0f} ms; worker peak growth {growth:.1f} MiB (largest round)")
        targets = {
            f"export rows/s >= {TARGETS[kind]} x {dump_name} (same round)": ratio >= TARGETS[kind],
            f"first byte within {TARGETS['ttfb_s']:.0f} s": ttfb <= TARGETS["ttfb_s"],
            f"worker memory growth under {TARGETS['memory_mib']:.0f} MiB": growth < TARGETS["memory_mib"],
            "the file has every row, in the chain's order": r.extras.get("check", {}).get("ok", False),
        }
        for name, ok in targets.items():
            log(f"    {verdict(ok)}  {name}")
        summary[kind] = {"rows": r.rows, "export_rows_per_s": export_rate, "dump_rows_per_s": dump_rate,
                         "ratio": ratio, "ttfb_s": ttfb, "growth_mib": growth, "targets": targets,
                         "rounds": [vars(x) for x in r.rounds], "extras": r.extras, "data": r.data}
    log(f"  ({REFERENCE})")
    module = dashboard_module()
    if module is not None and hasattr(module, "summarise"):
        summary["dashboard"] = module.summarise([r for r in reports if r.dashboard is not None])
    return summary


def versions(dbs) -> dict:
    info = sb.versions(dbs)
    with contextlib.suppress(Exception):
        import xlsxwriter

        info["XlsxWriter"] = xlsxwriter.__version__
    return info


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--rounds", type=int, default=3, help="audit exports per database (default 3)")
    p.add_argument("--concerns", type=int, default=200_000, help="calls to write (default 200,000)")
    p.add_argument("--audit-rows", type=int, default=1_000_000, help="audit rows to write (default 1,000,000)")
    p.add_argument("--seed", type=int, default=1, help="random seed for the data (default 1)")
    p.add_argument("--skip-excel", action="store_true", help="leave out the Excel export of the calls")
    p.add_argument("--port", type=int, default=0, help="gunicorn port (default: a free one)")
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, SQLite file)")
    opts = p.parse_args(argv)
    if opts.rounds < 1 or opts.concerns < 1 or opts.audit_rows < 0:
        p.error("need --rounds >= 1 and --concerns >= 1")
    return opts


def _terminate(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    opts = parse_args(argv)
    if not shutil.which("curl"):
        log("curl is not installed (apt-get install curl)")
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    dbs = []
    if opts.db in ("postgres", "both") and not sb.postgres_answers():
        log(f"PostgreSQL SKIPPED: nothing answers on {sb.PG_HOST}:{sb.PG_PORT} (start PostgreSQL to measure it)")
        if opts.db == "postgres":
            return 2
    workdir = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    if opts.db in ("sqlite", "both"):
        if not shutil.which("sqlite3"):
            log("sqlite3 is not installed (apt-get install sqlite3): SQLite SKIPPED")
        else:
            dbs.append(sb.SqliteDatabase(workdir))
    if opts.db in ("postgres", "both") and sb.postgres_answers():
        dbs.append(PostgresDatabase())
    if not dbs:
        return 2
    log(f"bench/reports.py: {', '.join(d.label for d in dbs)}; temporary files in {workdir}")
    reports, failed = [], []
    try:
        info = versions(dbs)
        for db in dbs:
            try:
                reports.append(run_database(db, opts, workdir))
            except BenchError as e:
                failed.append(db.label)
                log(f"\n{db.label}: COULD NOT MEASURE: {e}")
            finally:
                with contextlib.suppress(Exception):
                    db.drop()
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
