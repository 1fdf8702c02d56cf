"""The benchmarks' shared harness: options, fresh databases, the app under test (one tree, or two to
compare), gunicorn, wrk, CPU accounting, the quiet-machine wait, clean-up on Ctrl-C or SIGTERM, and
the summary's tables, PASS/FAIL lines and JSON. Each script in bench/ holds one `Scenario`; main()
runs it on each database and, given two trees, interleaves them round by round (bench/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.cookies
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import namedtuple
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib.metadata import version as package_version
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PYTHON = sys.executable  # every tree runs on the benchmark's own interpreter and packages
LIVEZ = "/livez"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
SESSION_COOKIE = "session"  # BenchmarkConfig.SESSION_COOKIE_NAME
DISTURBED = 15.0  # % of the machine other work may use during a run before the run is marked
COMPARE_WITHIN = 15.0  # % between two trees that this machine's noise can explain
CLK_TCK = os.sysconf("SC_CLK_TCK")
ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL|Traceback|WORKER TIMEOUT)\b")

# The family's form at ward 7B, answered as tests/conftest.py valid_answers() does. The submission
# id and the worry text are added per request: identical repeats are merged by design.
FORM_PATH = "/w/ngh-7b"
STATIC_ANSWERS = [
    *[("caller_route", "family_carer_advocate"), ("caller_name", "Sam Jones"), ("caller_relationship", "daughter")],
    *[("patient_name", "Pat Jones"), ("worry_categories", "breathing"), ("worry_categories", "sleepy_or_confused")],
    *[("spoke_to_ward", "yes"), ("ward_response", "They said the doctor would come later.")],
    *[("callback_number", "07400 123456"), ("sms_consent", "y"), ("preferred_language", "")],
    *[("interpreter_needed", "no"), ("communication_needs", "")],
]
HIDDEN = re.compile(r'<input type="hidden" name="(csrf_token|submission_id|kiosk)" value="([^"]*)"')
Tree = namedtuple("Tree", "name path")  # a directory holding the app: a checkout, or a git worktree


class BenchError(RuntimeError):
    """Could not set up or run the measurement; the message says why."""


def log(message: str = "") -> None:
    print(message, flush=True)


# --- options -------------------------------------------------------------------------------------------


def parser(doc: str, *, rounds: int = 3, duration: float = 10, warmup: float = 2, wrk: bool = True, **defaults):
    """The options every benchmark takes; a script adds its own, then calls parse(). `defaults` may
    change two more: db ("both") and quiet_wait (30)."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    add, db, quiet = p.add_argument, defaults.get("db", "both"), defaults.get("quiet_wait", 30)
    add("--db", choices=["sqlite", "postgres", "both"], default=db, help=f"databases to measure (default {db})")
    add("--rounds", type=int, default=rounds, help=f"measured rounds (default {rounds})")
    add("--duration", type=float, default=duration, help=f"seconds per measured run (default {duration:g})")
    add("--warmup", type=float, default=warmup, help=f"seconds of warm-up, not counted (default {warmup:g})")
    add("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    wait = f"before each measured run, wait up to this many seconds for other work to use under {DISTURBED:.0f}%%"
    add("--quiet-wait", type=float, default=quiet, help=wait + f" of the CPU (default {quiet:g}; 0: do not wait)")
    dirs = "the app's directory (default: this repository); twice (old=DIR, new=DIR) to compare two trees"
    add("--app-dir", action="append", default=[], metavar="[NAME=]DIR", help=dirs)
    add("--json", type=Path, help="also write the figures to this JSON file (bench/results/ is ignored by git)")
    add("--keep", action="store_true", help="keep the temporary directory (logs, scripts, SQLite files)")
    if wrk:
        add("--connections", type=int, default=32, help="wrk connections (default 32)")
        add("--threads", type=int, default=2, help="wrk threads (default 2)")
    return p


def parse(p: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    opts = p.parse_args(argv)
    if opts.rounds < 1 or opts.duration <= 0 or opts.workers < 1 or len(opts.app_dir) > 2:
        p.error("need --rounds >= 1, --duration > 0, --workers >= 1, and --app-dir once or twice")
    if getattr(opts, "connections", 1) < getattr(opts, "threads", 1):
        p.error("need --connections >= --threads")
    opts.trees = []
    for spec in opts.app_dir or [str(REPO)]:
        named = re.fullmatch(r"(\w[\w.-]*)=(.+)", spec)
        path = Path(named.group(2) if named else spec).expanduser().resolve()
        if not (path / "wsgi.py").is_file():
            p.error(f"--app-dir {spec}: {path} has no wsgi.py, so it does not hold the app")
        opts.trees.append(Tree(named.group(1) if named else path.name, path))
    if len({t.name for t in opts.trees}) < len(opts.trees):
        p.error("name the two trees apart: --app-dir old=DIR --app-dir new=DIR")
    return opts


# --- databases ------------------------------------------------------------------------------------------


class Database:
    """A fresh database for one target, reached with the plain drivers (SQL written with ?)."""

    kind = label = url = ""

    def create(self) -> None: ...

    def drop(self) -> None: ...

    def server_pids(self) -> list[int]:
        return []

    def value(self, v):
        return v

    def statement(self, sql: str, params) -> tuple:
        return sql, tuple(self.value(v) for v in params)

    def query(self, sql: str, params=()) -> list[tuple]:
        """The rows of one statement (none for a write), committed."""
        with self.connect() as conn:
            cursor = conn.execute(*self.statement(sql, params))
            return cursor.fetchall() if cursor.description else []

    def count(self, table: str) -> int:
        return self.query(f"SELECT count(*) FROM {table}")[0][0]

    def check_columns(self, table: str, columns: list[str]) -> None:
        """Bulk rows must name real columns and fill every NOT NULL one that has no default."""
        have = self.columns(table)
        unknown = [c for c in columns if c not in have]
        missing = [c for c, required in have.items() if required and c not in columns and c != "id"]
        if unknown or missing:
            raise BenchError(f"bench rows for {table}: unknown columns {unknown}, NOT NULL ones missing {missing}")


class SqliteDatabase(Database):
    kind, label = "sqlite", "SQLite (WAL)"

    def __init__(self, path: Path):
        self.path, self.url = path, f"sqlite:///{path}"

    @contextlib.contextmanager
    def connect(self):
        conn = sqlite3.connect(self.path, timeout=60)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            yield conn
            conn.commit()
        finally:
            conn.close()

    def value(self, v):
        """As SQLAlchemy stores it on SQLite: naive UTC text for a time, ISO text for a day."""
        if isinstance(v, datetime):
            return v.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return v.isoformat() if isinstance(v, date) else v

    def columns(self, table: str) -> dict[str, bool]:
        rows = self.query(f"PRAGMA table_info({table})")  # cid, name, type, notnull, default, pk
        return {r[1]: bool(r[3]) and r[4] is None and not r[5] for r in rows}

    def bulk_insert(self, conn, table: str, columns: list[str], rows) -> None:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        conn.executemany(sql, ([self.value(v) for v in row] for row in rows))

    def analyze(self) -> None:
        self.query("ANALYZE")


class PostgresDatabase(Database):
    kind, label = "postgres", "PostgreSQL"

    def __init__(self, name: str, created: bool = False):
        self.name, self.created = name, created
        self.url = f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"

    @contextlib.contextmanager
    def connect(self, dbname: str | None = None, autocommit: bool = False):
        import psycopg

        where = {"host": PG_HOST, "port": PG_PORT, "user": PG_USER, "dbname": dbname or self.name}
        with psycopg.connect(**where, autocommit=autocommit, connect_timeout=5) as conn:
            yield conn

    def statement(self, sql: str, params) -> tuple:
        return (sql.replace("%", "%%").replace("?", "%s"), tuple(params)) if params else (sql, None)

    def admin(self, sql: str, params=None) -> list[tuple]:
        with self.connect("postgres", autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def create(self) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin(f'CREATE DATABASE "{self.name}"')
        self.created = True

    def drop(self) -> None:
        if self.created:
            self.admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.created = False

    def server_pids(self) -> list[int]:
        sql = "SELECT pid FROM pg_stat_activity WHERE datname = %s"
        return [r[0] for r in self.admin(sql, (self.name,))] if self.created else []

    def listeners(self) -> int:
        """Connections whose last statement was a LISTEN (the worker, waiting for NOTIFY)."""
        sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query ILIKE 'LISTEN %%'"
        return self.admin(sql, (self.name,))[0][0]

    def columns(self, table: str) -> dict[str, bool]:
        sql = "SELECT column_name, is_nullable = 'NO' AND column_default IS NULL FROM information_schema.columns"
        return {name: bool(required) for name, required in self.query(sql + " WHERE table_name = ?", (table,))}

    def bulk_insert(self, conn, table: str, columns: list[str], rows) -> None:
        with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if "id" in columns:  # rows came with their ids: move the sequence past them
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")

    def analyze(self) -> None:
        with self.connect(autocommit=True) as conn:  # VACUUM sets the visibility map for index-only scans
            conn.execute("VACUUM ANALYZE")


# --- processes and CPU accounting ------------------------------------------------------------------------

_SPAWNED: list[Spawned] = []
_DATABASES: list[Database] = []


class Spawned:
    """A child in its own process group (stop() ends that group, and only it), logging to a file."""

    def __init__(self, cmd: list[str], *, cwd: Path, env: dict | None, log_path: Path):
        self.cmd, self.cwd, self.env, self.log_path, self.process = cmd, cwd, env, log_path, None

    def start(self) -> Spawned:
        self.log_file = open(self.log_path, "ab")  # noqa: SIM115 (closed by stop())
        out = {"stdin": subprocess.DEVNULL, "stdout": self.log_file, "stderr": subprocess.STDOUT}
        self.process = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, start_new_session=True, **out)
        _SPAWNED.append(self)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pids(self) -> list[int]:
        return [self.process.pid, *children_of(self.process.pid)] if self.alive() else []

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            if self.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=wait)
        if self.process is not None:
            self.log_file.close()
            self.process = None
            _SPAWNED.remove(self)

    def log_text(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")
        return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_errors(self) -> list[str]:
        return [line for line in self.log_text().splitlines() if ERROR_LINE.search(line)]


class Server(Spawned):
    """gunicorn -k sync serving `wsgi:app` from the target's tree (no access log)."""

    def __init__(self, target: Target, workers: int, timeout: int):
        self.port, self.workers, self.base = target.port, workers, f"http://127.0.0.1:{target.port}"
        bind = ["-b", f"127.0.0.1:{self.port}", "--timeout", str(timeout), "--log-level", "warning"]
        cmd = [PYTHON, "-m", "gunicorn", "-k", "sync", "-w", str(workers), *bind, "--no-control-socket", "wsgi:app"]
        super().__init__(cmd, cwd=target.tree.path, env=target.env, log_path=target.workdir / "gunicorn.log")

    def start(self) -> Server:
        super().start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.alive():
            with contextlib.suppress(OSError):
                if fetch(self.base + LIVEZ, timeout=2)[0] == 200 and len(self.worker_pids()) >= self.workers:
                    return self
            time.sleep(0.2)
        raise BenchError(f"gunicorn did not answer {LIVEZ} within 30 s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        return self.pids()[1:]

    def boots(self) -> int:
        return self.log_text().count("Booting worker")


def stop_everything() -> None:
    for child in list(_SPAWNED):
        child.stop()
    for db in _DATABASES:
        try:
            db.drop()
        except Exception as e:  # noqa: BLE001 (the others must still be dropped)
            log(f"  could not drop the database {db.url}: {e}")


def _stat(pid) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    return stat[stat.rindex(")") + 2 :].split()


def process_ticks(pid: int) -> int:
    try:
        fields = _stat(pid)
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def children_of(pid: int) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError, IndexError, ValueError):
            found += [int(entry)] if int(_stat(entry)[1]) == pid else []
    return found


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs, from /proc/stat; guest time is already inside user."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return sum(fields[:8]) - fields[3] - fields[4], sum(fields[:8])


def our_pids() -> set[int]:
    """This process, every child it started (gunicorn, workers, Prism) and their database backends."""
    pids = {os.getpid(), *(pid for child in _SPAWNED for pid in child.pids())}
    for db in _DATABASES:
        with contextlib.suppress(Exception):
            pids.update(db.server_pids())
    return pids


class CpuWindow:
    """CPU over a block: the `measured()` processes' own (server CPU), and the share of the machine
    none of ours used (foreign CPU: the noise indicator). wrk and curl count as ours once ended."""

    def __init__(self, measured=list):
        self.measured = measured

    def __enter__(self):
        self.measured0 = set(self.measured())
        self.before = {pid: process_ticks(pid) for pid in our_pids() | self.measured0}
        self.machine0, self.children0 = machine_ticks(), resource.getrusage(resource.RUSAGE_CHILDREN)
        return self

    def __exit__(self, *exc):
        measured, usage = self.measured0 | set(self.measured()), resource.getrusage(resource.RUSAGE_CHILDREN)
        pids = set(self.before) | our_pids() | measured
        self.deltas = {pid: max(0, process_ticks(pid) - self.before.get(pid, 0)) / CLK_TCK for pid in pids}
        children = usage.ru_utime + usage.ru_stime - self.children0.ru_utime - self.children0.ru_stime
        busy, total = (a - b for a, b in zip(machine_ticks(), self.machine0, strict=True))
        ours = sum(self.deltas.values()) + children
        self.foreign_pct = 100 * max(0.0, busy / CLK_TCK - ours) / max(total / CLK_TCK, 0.01)
        self.server_s, self.seconds = self.cpu_of(measured), total / CLK_TCK / len(os.sched_getaffinity(0))
        return False

    def cpu_of(self, pids) -> float:
        return sum(self.deltas.get(pid, 0.0) for pid in pids)


def wait_until_quiet(max_wait: float) -> None:
    """Before a measured run: wait (up to max_wait s) until other work uses under DISTURBED % of the
    machine over one second."""
    deadline, said = time.monotonic() + max_wait, False
    while max_wait > 0:
        with CpuWindow() as cpu:
            time.sleep(1.0)
        if (quiet := cpu.foreign_pct <= DISTURBED) or time.monotonic() >= deadline:
            if said:
                log(f"    ... {cpu.foreign_pct:.0f}% foreign CPU: measuring {'now' if quiet else 'anyway'}")
            return
        if not said:
            log(f"    machine busy with other work ({cpu.foreign_pct:.0f}% CPU): waiting up to {max_wait:g} s")
            said = True


def wait_until_idle(server: Server, limit: float = 30.0) -> None:
    """After a wrk run gunicorn still answers what was queued (up to one request per connection, which
    wrk no longer waits for): wait until its workers stop using CPU, so the next run starts on an
    idle server and the database holds everything the server finished."""
    deadline, quiet, last = time.monotonic() + limit, 0, -1
    while time.monotonic() < deadline and quiet < 3:
        now = sum(process_ticks(p) for p in server.pids())
        quiet, last = (quiet + 1 if now - last <= 1 else 0), now
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- HTTP --------------------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, *, data: str | None = None, headers: dict | None = None, timeout: float = 60) -> tuple:
    """(status, headers, text) of one request; redirects are not followed."""
    body = None if data is None else data.encode()
    request = urllib.request.Request(url, data=body, headers=headers or {})  # noqa: S310 (loopback)
    try:
        with urllib.request.build_opener(_NoRedirect()).open(request, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode(errors="replace")


def cookies_set(headers) -> dict[str, str]:
    found = {}
    for header in headers.get_all("Set-Cookie") or []:
        jar = http.cookies.SimpleCookie()
        with contextlib.suppress(http.cookies.CookieError):
            jar.load(header)
        found.update({name: morsel.value for name, morsel in jar.items()})
    return found


def open_form(base: str) -> tuple[str, str]:
    """GET the family's form as a browser would: (its static body with the CSRF token, the Cookie header)."""
    status, headers, html = fetch(base + FORM_PATH, timeout=10)
    hidden, cookies = dict(HIDDEN.findall(html)), cookies_set(headers)
    if status != 200 or "csrf_token" not in hidden or not {SESSION_COOKIE, "mr_device"} <= set(cookies):
        raise BenchError(f"GET {FORM_PATH}: {status}, hidden fields {sorted(hidden)}, cookies {sorted(cookies)}")
    answers = [*STATIC_ANSWERS, ("csrf_token", hidden["csrf_token"]), ("kiosk", hidden.get("kiosk", ""))]
    return urllib.parse.urlencode(answers), "; ".join(f"{k}={v}" for k, v in cookies.items())


def form_errors(page: str) -> list[str]:
    return re.findall(r'<a href="#[^"]*">([^<]+)</a>', page)


# --- the app under test: one tree on one database -------------------------------------------------------


@dataclass
class Target:
    """One tree of the app on one fresh database, with its own environment, server and rounds.
    Scenarios keep their own figures on it as attributes."""

    tree: Tree
    db: Database
    workdir: Path
    label: str
    port: int = field(default_factory=free_port)
    env: dict = field(default_factory=dict)
    server: Server | None = None
    rounds: list = field(default_factory=list)
    warmups: list = field(default_factory=list)
    children: list = field(default_factory=list)

    def set_env(self, extra: dict) -> None:
        drop = {"RATELIMIT_STORAGE_URI", "TRUSTED_HOSTS", "PROXY_HOPS", "PYTHONPATH"}
        self.env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("TWILIO_")}
        self.env.update(TRACKER_CONFIG="benchmark", DATABASE_URL=self.db.url, SECRET_KEY=secrets.token_urlsafe(48))
        self.env.update(PUBLIC_BASE_URL=f"http://127.0.0.1:{self.port}", TRACKER_INSTANCE_DIR=str(self.workdir))
        self.env.update(SMS_BACKEND="console", SMS_CONSOLE_LOG=str(self.workdir / "sms.jsonl"), PYTHONUNBUFFERED="1")
        self.env.update(extra)

    def flask(self, *args: str, timeout: float = 1800, check: bool = True) -> subprocess.CompletedProcess:
        """`flask --app wsgi ...` in the tree, with the benchmark's environment."""
        cmd = [PYTHON, "-m", "flask", "--app", "wsgi", *args]
        done = subprocess.run(cmd, cwd=self.tree.path, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise BenchError(f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def spawn(self, cmd: list[str], log_name: str) -> Spawned:
        """A process of the tree's own (the worker, say), stopped with the target."""
        self.children.append(Spawned(cmd, cwd=self.tree.path, env=self.env, log_path=self.workdir / log_name))
        return self.children[-1].start()

    def start_server(self, workers: int, timeout: int = 120) -> Server:
        self.server = Server(self, workers, timeout)
        self.children.append(self.server)
        return self.server.start()

    def sign_in(self, email: str, role: str, *scope: str, mfa: bool = False, create: bool = True) -> dict:
        """A staff member made by `flask tracker create-user`, password already changed (and with an
        authenticator, for roles that need one), with a live server-side session written in SQL, and
        Flask's session cookie naming it, signed with the app's key as Flask signs it (as
        tests/conftest.py sign_in_directly does). create=False: the account exists already (made by
        the same command, many in one process: see bench/soak.py)."""
        from flask import Flask
        from flask.sessions import SecureCookieSessionInterface

        if create:
            self.flask("tracker", "create-user", "--email", email, "--name", f"Bench {role}", "--role", role, *scope)
        token, now, secret = secrets.token_urlsafe(32), datetime.now(UTC), "JBSWY3DPEHPK3PXP" if mfa else None
        sql = "UPDATE user_account SET must_change_password = ?, password_changed_at = ?, totp_secret = ?"
        self.db.query(sql + " WHERE email = ?", (False, now, secret, email))
        sql = "INSERT INTO session_record (token_hash, user_id, created_at, last_active_at, authenticated_at, address"
        sql += ") SELECT ?, id, ?, ?, ?, '127.0.0.1' FROM user_account WHERE email = ?"
        self.db.query(sql, (hashlib.sha256(token.encode()).hexdigest(), now, now, now, email))
        sql = "SELECT u.id, s.id FROM user_account u JOIN session_record s ON s.user_id = u.id WHERE u.email = ?"
        ((user_id, session_id),) = self.db.query(sql, (email,))
        stand_in = Flask("bench")
        stand_in.secret_key = self.env["SECRET_KEY"]
        signer = SecureCookieSessionInterface().get_signing_serializer(stand_in)
        cookie = signer.dumps({"_user_id": token, "_fresh": True})
        return {"user_id": user_id, "session_id": session_id, "cookie": f"{SESSION_COOKIE}={cookie}"}

    def in_app(self, script: str, command: str, payload: dict, timeout: float = 1800) -> dict:
        """`bench/<script> _inapp <command>` as a child in the tree, with the app importable: for what
        only code inside the app can see (see in_app_main)."""
        env, cmd = {**self.env, "PYTHONPATH": str(self.tree.path)}, [PYTHON, str(HERE / script), "_inapp", command]
        run = {"capture_output": True, "text": True, "cwd": self.tree.path, "env": env, "timeout": timeout}
        done = subprocess.run(cmd, input=json.dumps(payload), **run)
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("INAPP_RESULT ")), None)
        if done.returncode != 0 or line is None:
            raise BenchError(f"in-app step {command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return json.loads(line.split(" ", 1)[1])

    def close(self) -> None:
        for child in self.children:
            child.stop()
        self.db.drop()


def in_app_main(commands: dict, command: str) -> int:
    """In the child Target.in_app started: commands[command](app, payload), with the payload's JSON on
    stdin and the result's on one stdout line. The app is `wsgi:app` of the tree, as gunicorn loads
    it: in-app steps reach the app through this alone, so its modules may move (bench/README.md)."""
    import wsgi

    payload = json.loads(sys.stdin.read() or "{}")
    print("INAPP_RESULT " + json.dumps(commands[command](wsgi.app, payload), default=str), flush=True)
    return 0


# --- wrk -------------------------------------------------------------------------------------------------

# Counts every answer that is not EXPECTED, and what wrk sent and received (it stops waiting for up
# to one request per connection when a run ends), so errors and lost requests are visible.
LUA_COUNTING = r"""
local threads, next_tid = {}, 1
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end
function response(status, headers, body)
  received = received + 1
  statuses[tostring(status)] = (statuses[tostring(status)] or 0) + 1
  if status ~= EXPECTED then unexpected = unexpected + 1 end
end
function done(summary, latency, requests)
  local sent_all, received_all, unexpected_all, statuses_all = 0, 0, 0, {}
  for _, t in ipairs(threads) do
    sent_all = sent_all + (t:get("sent") or 0)
    received_all = received_all + (t:get("received") or 0)
    unexpected_all = unexpected_all + (t:get("unexpected") or 0)
    for k, v in pairs(t:get("statuses") or {}) do statuses_all[k] = (statuses_all[k] or 0) + v end
  end
  local e = summary.errors
  io.write(string.format("BENCH_RESULT requests=%.0f duration_us=%.0f sent=%.0f received=%.0f unexpected=%.0f " ..
    "socket_errors=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f\n", summary.requests, summary.duration, sent_all,
    received_all, unexpected_all, e.connect + e.read + e.write + e.timeout, latency:percentile(50.0),
    latency:percentile(99.0), latency.max))
  io.write("BENCH_STATUS")
  for k, v in pairs(statuses_all) do io.write(string.format(" %s=%.0f", k, v)) end
  io.write("\n")
end
"""
LUA_GET = r"""
-- A static GET: wrk builds the request once.
EXPECTED = @EXPECTED@
wrk.method = "GET"
@HEADERS@
function init(args)
  sent, received, unexpected, statuses = 0, 0, 0, {}
end
"""


def lua_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def write_lua(path: Path, template: str, **values: str) -> Path:
    """A wrk script: the template with @NAME@ replaced by each value (the contents of a Lua string,
    unless the name starts raw_), then the counting prelude."""
    for key, value in values.items():
        raw = key.startswith("raw_")
        template = template.replace(f"@{key.removeprefix('raw_')}@", value if raw else lua_string(value))
    path.write_text(template + LUA_COUNTING)
    return path


def get_lua(path: Path, expected: int, headers: dict[str, str]) -> Path:
    lines = "\n".join(f'wrk.headers["{lua_string(k)}"] = "{lua_string(v)}"' for k, v in headers.items())
    return write_lua(path, LUA_GET, raw_EXPECTED=str(int(expected)), raw_HEADERS=lines)


@dataclass
class WrkResult:
    label: str
    requests: int
    duration_s: float
    sent: int
    received: int
    unexpected: int  # answers other than the expected status
    socket_errors: int  # connect, read, write and timeout errors
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    foreign_cpu_pct: float = 0.0
    server_ms_per_req: float | None = None
    attempts: int = 1

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def errors(self) -> int:
        return self.socket_errors + self.unexpected

    @property
    def successes(self) -> int:
        return self.received - self.unexpected

    @property
    def unanswered(self) -> int:
        """Requests wrk wrote but stopped waiting for when the run ended (the server may finish them)."""
        return max(0, self.sent - self.received)

    @property
    def disturbed(self) -> bool:
        return self.foreign_cpu_pct > DISTURBED

    def describe(self, key: str) -> str:
        errors = f" {self.errors} err" if self.errors else ""
        return f"{key} {self.rps:,.0f} req/s p99 {self.p99_ms:.0f} ms{errors} [{self.foreign_cpu_pct:.0f}% foreign]"


def run_wrk(target: Target, lua: Path, path: str, label: str, opts, duration: float, args=()) -> WrkResult:
    """wrk -t -c -d --latency against the target's server, with the run's server CPU per request (gunicorn
    and its PostgreSQL backends) and foreign CPU."""
    cmd = ["wrk", f"-t{opts.threads}", f"-c{opts.connections}", f"-d{duration:g}s", "--latency", "--timeout", "10s"]
    cmd += ["-s", str(lua), target.server.base + path, "--", *args]
    with CpuWindow(lambda: [*target.server.pids(), *target.db.server_pids()]) as cpu:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    lines = {ln.split(" ", 1)[0]: ln.split()[1:] for ln in done.stdout.splitlines() if ln.startswith("BENCH_")}
    if done.returncode != 0 or "BENCH_RESULT" not in lines:
        raise BenchError(f"wrk failed ({done.returncode}) for {label}:\n{done.stdout}\n{done.stderr}")
    v = {k: float(n) for k, n in (part.split("=", 1) for part in lines["BENCH_RESULT"])}
    counts = [int(v[k]) for k in ("requests", "duration_us", "sent", "received", "unexpected", "socket_errors")]
    statuses = {k: int(float(n)) for k, n in (part.split("=", 1) for part in lines.get("BENCH_STATUS", []))}
    latencies = [v[k] / 1000 for k in ("p50_us", "p99_us", "max_us")]
    per_request = 1000 * cpu.server_s / counts[0] if counts[0] else None
    return WrkResult(label, counts[0], counts[1] / 1e6, *counts[2:], *latencies, statuses, cpu.foreign_pct, per_request)


# --- the summary -----------------------------------------------------------------------------------------


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0-100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, -int(-q * len(ordered) // 100))) - 1] if ordered else None


def fmt(value, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def check(text: str, ok: bool, width: int = 90) -> bool:
    """One target's line, ending PASS or FAIL."""
    log(f"    {text}".ljust(width) + " " + ("PASS" if ok else "FAIL"))
    return ok


def table(spec: str, rows: list[list]) -> None:
    """Rows under a header. spec: 'title|format' per column, separated by ';'. A format is a gap of
    spaces, then a format() spec (e.g. >9,.0f) whose width the title takes too; None prints as '-'."""
    columns = [column.split("|") for column in spec.split(";")]
    log("  " + "".join(_cell(title, f, title=True) for title, f in columns))
    for row in rows:
        log("  " + "".join(_cell(value, f) for value, (_, f) in zip(row, columns, strict=True)))


def _cell(value, spec: str, title: bool = False) -> str:
    gap, spec = " " * (len(spec) - len(spec.lstrip())), spec.lstrip()
    width = int(re.match(r"[<>^]?(\d*)", spec).group(1) or 0)
    if title:
        return gap + f"{value:{'<' if spec[:1] == '<' else '>'}{width}}"
    return gap + ("-".rjust(width) if value is None else format(value, spec))


def settings(opts, info: dict) -> None:
    """SETTINGS: gunicorn and wrk, the versions and the machine, and the commit of each tree."""
    log("SETTINGS")
    if hasattr(opts, "connections"):
        wrk = f"wrk -t{opts.threads} -c{opts.connections} -d{opts.duration:g}s --latency --timeout 10s"
        log(f"  gunicorn -k sync -w {opts.workers} (no access log) | {wrk} | warm-up {opts.warmup:g} s per endpoint")
    log("  " + " | ".join(f"{k} {v}" for k, v in info.items() if not k.startswith("code")))
    for key in (k for k in info if k.startswith("code")):
        log(f"  {key}: {info[key]}")


def print_rounds(targets: list[Target], keys: list[str]) -> None:
    """PER ROUND: one row per wrk run; ratio = req/s ÷ /livez req/s of the same round."""
    log("\nPER ROUND (foreign CPU = machine CPU used by anything but ours; server CPU = gunicorn + its PostgreSQL")
    log("  backends per request, independent of the client; ratio = req/s ÷ /livez req/s of the same round)")
    rows = []
    for target, (n, results) in ((t, r) for t in targets for r in enumerate(t.rounds, 1)):
        for key, r in ((key, results[key]) for key in keys):
            note = "DISTURBED (other work on the machine)" if r.disturbed else ""
            note += f" (least disturbed of {r.attempts} runs)" if r.attempts > 1 else ""
            ratio = r.rps / results["livez"].rps if results["livez"].rps else None
            values = [r.rps, r.p50_ms, r.p99_ms, r.max_ms, r.errors, ratio, r.server_ms_per_req, r.foreign_cpu_pct]
            rows.append([target.label, n, key, *values, note])
    spec = "database|<20;round|>5;endpoint| <9;req/s|>9,.0f;p50 ms|>9.1f;p99 ms|>9.1f;max ms|>9.1f;errors|>8"
    table(spec + ";ratio|>8.3f;srv ms/req|>11.2f;foreign%|>10.1f;note|  ", rows)
    if any(row[-1] for row in rows):
        log(f"  NOTE: a run had more than {DISTURBED:.0f}% foreign CPU: compare ratios within a round, or rerun.")


def compare_trees(scenario: Scenario, targets: list[Target]) -> dict:
    """Per database and figure: each tree's median over rounds of the same-round figure, and how far the
    second tree is from the first."""
    first, second = scenario.opts.trees
    log(f"\nTWO TREES, interleaved round by round: {first.name} = {first.path}, {second.name} = {second.path}")
    log(f"  medians over rounds of the same-round figures; difference = {second.name} ÷ {first.name} - 1")
    out, rows = {}, []
    for kind in dict.fromkeys(t.db.kind for t in targets):
        a, b = (next(t for t in targets if t.db.kind == kind and t.tree == tree) for tree in (first, second))
        figures_b = scenario.figures(b)
        for name, values in scenario.figures(a).items():
            ma, mb = median(values), median(figures_b.get(name, []))
            diff = 100 * (mb / ma - 1) if ma and mb is not None else None
            within = "yes" if diff is not None and abs(diff) <= COMPARE_WITHIN else "NO"
            out[f"{kind}: {name}"] = {first.name: ma, second.name: mb, "difference_pct": diff, "within": within}
            rows.append([a.db.label, name, ma, mb, diff, within])
    spec = f"database|<14;figure|<30;{first.name}|>10.3f;{second.name}|>10.3f;difference %|>14.1f"
    table(f"{spec};within ±{COMPARE_WITHIN:.0f} %|>15", rows)
    return out


def versions(opts, kinds: list[str], packages: dict[str, str]) -> dict:
    found = {"Python": sys.version.split()[0]}
    for label, package in {"gunicorn": "gunicorn", "Flask": "flask", "SQLAlchemy": "sqlalchemy", **packages}.items():
        with contextlib.suppress(Exception):
            found[label] = package_version(package)
    found["SQLite"] = sqlite3.sqlite_version
    if "postgres" in kinds:
        found["PostgreSQL"] = PostgresDatabase("postgres").admin("SHOW server_version")[0][0]
    if shutil.which("wrk"):
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        found["wrk"] = (re.findall(r"wrk (\S+)", wrk.stdout + wrk.stderr) or ["?"])[0]
    found["nproc"] = len(os.sched_getaffinity(0))
    found["CPU"] = (re.findall(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text()) or ["?"])[0].strip()
    found["load avg at start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    for tree in opts.trees:  # the commit measured, and whether tracked files had changes (measured too)
        git = ["git", "-C", str(tree.path)]
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        changed = subprocess.run([*git, "status", "--porcelain", "-uno"], capture_output=True, text=True).stdout.strip()
        state = f"{commit or '?'}{' + uncommitted changes' if changed else ''} in {tree.path}"
        found[f"code {tree.name}" if len(opts.trees) > 1 else "code"] = state
    return found


# --- running a scenario ----------------------------------------------------------------------------------


class Scenario:
    """One benchmark. For each database the harness makes one Target per tree and calls the subclass's
    setup(t) on each, then round(t, n) for each round with the trees interleaved (round 1: first,
    second; round 2: second, first; ...), appending what it returns to t.rounds, then finish(t).
    summarise(targets, info) prints the figures and returns them for the JSON file; figures(t) gives,
    per figure the two trees are compared on, its value in each round; env(t) adds to the app's
    environment."""

    name, tools, packages = "", ("wrk",), {}

    def __init__(self, opts):
        self.opts = opts

    def env(self, t: Target) -> dict:
        return {}


def _interrupt(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def make_target(scenario: Scenario, kind: str, tree: Tree, workdir: Path) -> Target:
    """The tree on a fresh database of this kind, migrated and seeded with the demo trust."""
    suffix = "_" + re.sub(r"\W", "_", tree.name).lower() if len(scenario.opts.trees) > 1 else ""
    (where := workdir / f"{kind}{suffix}").mkdir()
    name = f"bench_{scenario.name}_{os.getpid()}{suffix}"
    db = SqliteDatabase(where / "tracker.db") if kind == "sqlite" else PostgresDatabase(name)
    _DATABASES.append(db)
    t = Target(tree, db, where, f"{db.label} {tree.name}" if suffix else db.label)
    log(f"\n=== {t.label}: {db.url}, app in {tree.path} ===")
    t.set_env(scenario.env(t))
    db.create()
    t.flask("db", "upgrade")
    t.flask("tracker", "seed-demo")
    log("  migrated and seeded the demo trust")
    return t


def run_targets(scenario: Scenario, kind: str, workdir: Path) -> list[Target]:
    """Each tree on its own database of this kind, its rounds interleaved with the other tree's."""
    targets = []
    try:
        for tree in scenario.opts.trees:
            targets.append(make_target(scenario, kind, tree, workdir))
            scenario.setup(targets[-1])
        for n in range(scenario.opts.rounds):
            for t in targets if n % 2 == 0 else targets[::-1]:
                t.rounds.append(scenario.round(t, n))
        for t in targets:
            scenario.finish(t)
        return targets
    finally:
        for t in targets:
            t.close()


def main(scenario: Scenario) -> int:
    """Exit status: 0 after a measurement (whatever the verdicts), 1 if a database could not be
    measured, 2 if nothing could be, 130 after Ctrl-C or SIGTERM (everything stopped and dropped)."""
    opts, done, failed = scenario.opts, [], []
    kinds = ["sqlite", "postgres"] if opts.db == "both" else [opts.db]
    if missing := [tool for tool in scenario.tools if not shutil.which(tool)]:
        log(f"not installed: {', '.join(missing)} (see bench/README.md)")
        return 2
    with socket.socket() as s:
        if "postgres" in kinds and s.connect_ex((PG_HOST, PG_PORT)) != 0:
            log(f"PostgreSQL SKIPPED: nothing answers on {PG_HOST}:{PG_PORT} (start PostgreSQL to measure it)")
            kinds.remove("postgres")
    if not kinds:
        return 2
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{scenario.name}-"))
    log(f"bench {scenario.name}: {', '.join(kinds)}; trees {', '.join(t.name for t in opts.trees)}; files in {workdir}")
    try:
        info = versions(opts, kinds, scenario.packages)
        for kind in kinds:
            try:
                done += run_targets(scenario, kind, workdir)
            except BenchError as e:
                failed.append(kind)
                log(f"\n{kind}: COULD NOT MEASURE: {e}")
        if done:
            log("\n" + "=" * 110)
            summary = scenario.summarise(done, info)
            summary["two_trees"] = compare_trees(scenario, done) if len(opts.trees) > 1 else None
            save_json(opts, info, summary)
    except KeyboardInterrupt:
        log("\ninterrupted: stopped the servers and removed the temporary data")
        return 130
    finally:
        stop_everything()
        if opts.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        log(f"\nnot measured: {', '.join(failed)}")
    return 1 if failed else 0


def save_json(opts, info: dict, summary: dict) -> None:
    if opts.json:
        settings_ = {**vars(opts), "json": str(opts.json), "trees": {t.name: str(t.path) for t in opts.trees}}
        opts.json.parent.mkdir(parents=True, exist_ok=True)
        figures = {"settings": settings_, "versions": info, "results": summary}
        opts.json.write_text(json.dumps(figures, indent=2, default=str))
        log(f"\nwrote {opts.json}")


def run(scenario_class, options, commands: dict | None = None) -> None:
    """A script's entry point: its scenario, or (run as `<script> _inapp <command>`) an in-app step."""
    if commands and sys.argv[1:2] == ["_inapp"]:
        sys.exit(in_app_main(commands, sys.argv[2]))
    sys.exit(main(scenario_class(options())))
