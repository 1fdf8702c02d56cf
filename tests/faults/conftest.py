"""Fault tests: the worker runs as a real process (`flask --app wsgi tracker worker`) against the
test database and a fake Twilio on loopback that can be told to fail (fake_twilio.py).

Time: the worker and this process share one controllable clock (tracker.clock: the file named
by TRACKER_TEST_CLOCK_FILE holds how far "now" is ahead of the real time). Tests move it forward
in jumps and then wait, polling with generous deadlines, until the worker has caught up: a
ten-minute outage takes seconds.

Every worker process is killed when its test ends, pass or fail."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.conftest import build_trust, create_staff
from tests.faults.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.faults.throwaway_postgres import throwaway_postgres  # noqa: F401 (a fixture: a cluster to restart)
from tracker.clock import TEST_CLOCK_ENV, utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AlertChannel, Concern, Message, SendState, Team, Tier, User, WorkerHeartbeat
from tracker.services.paging import rota
from tracker.services.paging.policy import DEFAULT_STEPS, save_policy
from tracker.services.records import audit

ROOT = Path(__file__).resolve().parent.parent.parent
FROM_NUMBER = "+447400900000"
SITE_MANAGER = "+442079460999"
PEOPLE = {"primary": "+447400100001", "secondary": "+447400100002", "lead": "+447400100003"}
DEADLINE = 60.0  # seconds to wait for anything a worker should do in well under one; CI is slow


# --- waiting -------------------------------------------------------------------------------------


def wait_for(condition: Callable[[], object], what: str, timeout: float = DEADLINE, workers=None):
    """Poll until `condition()` is true (returns its value); fail saying `what` did not happen,
    with the workers' logs, after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if workers is not None:
            workers.check_alive()
        if time.monotonic() > deadline:
            logs = workers.logs() if workers is not None else ""
            pytest.fail(f"timed out after {timeout:.0f} s waiting for: {what}\n{logs}")
        time.sleep(0.05)


# --- the clock -----------------------------------------------------------------------------------


class Clock:
    """The shared controllable clock. `now()` is the tracker's own utcnow() in this process."""

    def __init__(self, path: Path, start: datetime):
        self.path = path
        self.offset = (start - datetime.now(UTC)).total_seconds()
        self._version = 0
        self._write()

    def now(self) -> datetime:
        return utcnow()

    def advance(self, **delta) -> datetime:
        self.offset += timedelta(**delta).total_seconds()
        self._write()
        return self.now()

    def _write(self) -> None:
        temporary = self.path.with_name(self.path.name + ".new")
        temporary.write_text(repr(self.offset), encoding="ascii")
        # Each version gets its own modification time, so a reader's cache always sees the change.
        self._version += 1
        os.utime(temporary, ns=(self._version, self._version))
        os.replace(temporary, self.path)


def next_night(hour: int = 2) -> datetime:
    """The coming night at `hour` o'clock in London: the fault stories happen at night."""
    london = ZoneInfo("Europe/London")
    local_now = datetime.now(london)
    night = local_now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if night <= local_now:
        night += timedelta(days=1)
    return night.astimezone(UTC)


@pytest.fixture
def clock(tmp_path, monkeypatch) -> Clock:
    path = tmp_path / "clock"
    made = Clock(path, next_night())
    monkeypatch.setenv(TEST_CLOCK_ENV, str(path))
    return made


# --- the fake provider -----------------------------------------------------------------------------


@pytest.fixture
def twilio(clock) -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    yield fake
    fake.close()


# --- worker processes ------------------------------------------------------------------------------


class WorkerProcess:
    def __init__(self, name: str, env: dict, log_path: Path):
        self.name = name
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "worker"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when the machine or the OOM killer takes it."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Workers:
    """Starts worker processes against the test database and the fake Twilio; kills them all at
    the end of the test."""

    def __init__(self, app, database_url: str, twilio: FakeTwilio, clock: Clock, tmp_path: Path):
        self.app = app
        self.tmp_path = tmp_path
        self.processes: list[WorkerProcess] = []
        self.expected_dead: set[int] = set()
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("TWILIO_", "SMS_", "WORKER_", "FLASK_", "HEARTBEAT_"))
            },
            "TRACKER_CONFIG": "development",
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "TRACKER_INSTANCE_DIR": str(tmp_path / "instance"),
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_API_BASE": twilio.base_url,
            # Generous: on a loaded machine a slow answer would count as unclear and be reconciled,
            # which is right but would muddle what a test counts. The timeout test sets its own.
            "TWILIO_TIMEOUT_SECONDS": "10",
            "WORKER_POLL_SECONDS": "0.05",
            "WORKER_HEARTBEAT_SECONDS": "0",  # a heartbeat every pass: tests see when a pass has run
            TEST_CLOCK_ENV: str(clock.path),
            "PYTHONUNBUFFERED": "1",
        }
        # The retry policy (SMS_RETRY_*, SMS_MAX_ATTEMPTS) and the lease are production's defaults:
        # the clock, not shorter settings, makes the outage short.

    def start(self, **settings: str) -> WorkerProcess:
        index = len(self.processes) + 1
        worker = WorkerProcess(f"worker-{index}", {**self.env, **settings}, self.tmp_path / f"worker-{index}.log")
        self.processes.append(worker)
        wait_for(lambda: self.heartbeat_of(worker.pid) is not None, f"{worker.name} to start", workers=self)
        return worker

    def kill(self, worker: WorkerProcess) -> None:
        self.expected_dead.add(worker.pid)
        worker.kill()

    def live(self) -> list[WorkerProcess]:
        return [w for w in self.processes if w.pid not in self.expected_dead]

    def check_alive(self) -> None:
        for worker in self.live():
            if not worker.alive():
                pytest.fail(f"{worker.name} died (exit code {worker.process.returncode}):\n{worker.log()[-4000:]}")

    def heartbeat_of(self, pid: int) -> datetime | None:
        with self.app.app_context():
            beat = db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)).where(WorkerHeartbeat.pid == pid))
            db.session.rollback()
        return aware(beat) if beat else None

    def caught_up(self, moment: datetime) -> bool:
        """Every live worker has begun a pass at `moment` or later, and committed its tick."""
        return all((self.heartbeat_of(w.pid) or moment - timedelta(days=1)) >= moment for w in self.live())

    def logs(self) -> str:
        return "\n".join(f"--- {w.name} (pid {w.pid}) ---\n{w.log()[-3000:]}" for w in self.processes)

    def stop_all(self) -> None:
        for worker in self.processes:
            if worker.alive():
                worker.kill()


@pytest.fixture
def workers(app, database_url, twilio, clock, tmp_path) -> Iterator[Workers]:
    started = Workers(app, database_url, twilio, clock, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; ours are all UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def settle(app, workers: Workers, clock: Clock, what: str = "the worker to finish what is due") -> None:
    """Wait until the workers have run at the clock's current time and nothing due is left:
    no text being sent or due, no escalation step or review reminder due."""
    moment = clock.now()
    wait_for(lambda: workers.caught_up(moment), f"every worker to run at {moment:%H:%M:%S}", workers=workers)
    live = {w.pid for w in workers.live()}
    # "Due" at the time of each look, not of the jump: what that pass fired is due at once.
    wait_for(lambda: nothing_due(app, clock.now(), live), what, workers=workers)


def advance_past_next_step(app, clock: Clock) -> datetime:
    """Move the clock a second past the latest escalation step due on any call. Each step's wait
    runs from when the previous step fired, which on a slow machine can be seconds after the clock
    was moved: a fixed jump from the start can land just short of it."""
    with app.app_context():
        latest = db.session.scalar(select(func.max(Concern.next_escalation_at)))
        db.session.rollback()
    assert latest is not None, "no call has an escalation step to come"
    return clock.advance(seconds=max((aware(latest) - clock.now()).total_seconds(), 0) + 1)


def all_final(app, workers: Workers) -> None:
    """Wait (on the real clock: retries after a slow answer come within seconds) until every
    message is sent, cancelled or dead."""
    final = (SendState.ACCEPTED, SendState.CANCELLED, SendState.DEAD)

    def done() -> bool:
        with app.app_context():
            left = db.session.scalar(select(func.count()).select_from(Message).where(Message.send_state.not_in(final)))
            db.session.rollback()
        return left == 0

    wait_for(done, "every message to be sent or cancelled", workers=workers)


def nothing_due(app, moment: datetime, live_pids: set[int]) -> bool:
    """Nothing is due at `moment`: no text due or being sent by a live worker (a killed worker's
    lease is not due until it expires), no escalation step or review reminder due.

    The steps are read first. A worker's pass fires a step and queues its texts in one commit, and
    each read here sees what was committed when it ran: read the other way round, a step fired
    between the reads hid both its call (no longer due) and its texts (not there yet), the test
    moved the clock on, and the next step cancelled those texts as escalated past."""
    with app.app_context():
        session = db.session
        due_steps = session.scalar(
            select(func.count())
            .select_from(Concern)
            .where((Concern.next_escalation_at <= moment) | (Concern.next_review_nudge_at <= moment))
        )
        due = session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.send_state.in_([SendState.PENDING, SendState.UNKNOWN]), Message.next_attempt_at <= moment)
        )
        leases = session.execute(
            select(Message.lease_owner, Message.lease_until).where(Message.send_state == SendState.SENDING)
        ).all()
        session.rollback()
    sending = [owner for owner, until in leases if lease_pid(owner) in live_pids or aware(until) <= moment]
    return due_steps == 0 and due == 0 and not sending


def lease_pid(owner: str | None) -> int | None:
    """Worker ids are "host:pid:random" (tracker.worker.Worker)."""
    try:
        return int((owner or "").split(":")[1])
    except (IndexError, ValueError):
        return None


# --- a team on call ------------------------------------------------------------------------------------


@pytest.fixture
def on_call(app, clock) -> dict:
    """A trust whose team has a primary, a secondary and a lead on call around the clock, and
    the default policy: the primary by text; 5 minutes later the secondary and the lead; the
    same again once; then the site manager by voice call every 10 minutes. Returns ids."""
    with app.app_context(), write_intent():
        built = build_trust()
        team_id, ward_id = built["team"].id, built["ward"].id
        db.session.commit()
    people = {}
    for tier, number in PEOPLE.items():
        user_id, _ = create_staff(app, "outreach", email=f"{tier}@test.invalid", team_ids=[team_id])
        people[tier] = user_id
        with app.app_context(), write_intent():
            db.session.get(User, user_id).mobile = number
            db.session.commit()
    with app.app_context(), write_intent():
        team = db.session.get(Team, team_id)
        actor = audit.Actor.cli()
        for tier, user_id in people.items():
            rota.add_pattern(
                actor,
                team,
                tier=Tier(tier),
                name=f"{tier} all day",
                start_local="00:00",
                shift_hours=24,
                anchor_date=date(2026, 1, 1),
                people=[user_id],
            )
        save_policy(
            actor,
            team,
            steps=DEFAULT_STEPS,
            repeat_times=1,
            fallback_name="Site manager",
            fallback_number=SITE_MANAGER,
            fallback_channel=AlertChannel.VOICE,
            fallback_wait_minutes=10,
        )
        db.session.commit()
    return {"team": team_id, "ward": ward_id, "people": people}
