"""Rate-limit counts in Redis, and what happens when Redis goes away: the form keeps working,
counts fall back to memory, and an alarm is raised (docs/architecture.md#security). Uses a throwaway redis-server the
test starts and kills itself, never the shared one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
import redis
from sqlalchemy import select

from tests.conftest import FamilyForm, make_config
from tracker.extensions import db, limiter
from tracker.models import Concern, SystemAlarm
from tracker.services.concerns import abuse

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None, reason="redis-server is not installed (apt-get install redis-server)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayRedis:
    def __init__(self):
        self.port = free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_timeout=0.2).ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("throwaway redis-server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def redis_server():
    server = ThrowawayRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_app(app, database_url, redis_server, build_app):
    """A second app on the same database whose limits live in the throwaway Redis."""
    other = build_app(
        make_config(database_url, RATELIMIT_STORAGE_URI=redis_server.url, DEVICE_CONCERN_LIMIT="2 per 10 minutes")
    )
    abuse.reset_counts()
    yield other
    limiter.init_app(app)  # the limiter is one object: give it back to the session's app
    abuse.reset_counts()


def alarms(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(SystemAlarm.kind)))


def test_counts_are_kept_in_redis_so_every_server_shares_them(redis_app, redis_server, trust):
    family = FamilyForm(redis_app.test_client())
    for n in range(3):
        assert family.submit(worry_details=f"Worry {n}").status_code == 303
    assert redis.Redis(port=redis_server.port).keys("*concern-device*")
    with redis_app.app_context():
        flags = [c.flagged_burst for c in db.session.scalars(select(Concern).order_by(Concern.id))]
    assert flags == [False, False, True]
    assert alarms(redis_app) == []


def test_when_redis_dies_concerns_are_still_taken_and_an_alarm_is_raised(redis_app, redis_server, trust):
    family = FamilyForm(redis_app.test_client())
    assert family.submit(worry_details="Before Redis died").status_code == 303
    redis_server.stop()
    started = time.monotonic()
    assert family.submit(worry_details="After Redis died").status_code == 303
    assert time.monotonic() - started < 5  # a short connect timeout, not a hang
    assert alarms(redis_app) == ["rate_limit_storage_down"]
    with redis_app.app_context():
        assert db.session.query(Concern).count() == 2


def test_after_redis_returns_counting_goes_back_to_it(redis_app, redis_server, trust, monkeypatch):
    family = FamilyForm(redis_app.test_client())
    redis_server.stop()
    assert family.submit(worry_details="During the outage").status_code == 303
    redis_server.start()
    monkeypatch.setattr(abuse._state, "primary_down_until", 0.0)  # the retry interval has passed
    assert family.submit(worry_details="After it came back").status_code == 303
    assert redis.Redis(port=redis_server.port).keys("*concern-device*")
