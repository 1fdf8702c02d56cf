"""Redis, which holds the rate-limit counts, fails under the family's form (docs/architecture.md#security): down
when the app starts, stalled mid-run (the command sent and no answer), and back again. A genuine concern is never
refused: the form still submits, counting carries on in memory on each server, staff see the alarm, and the alarm
clears once Redis answers again.

A throwaway redis-server and a stalling proxy the test starts itself; never the shared Redis."""

from __future__ import annotations

import threading

import pytest
import redis
from sqlalchemy import func, select

from tests.conftest import FamilyForm, make_config
from tests.faults.stalling_proxy import StallingProxy
from tests.services.test_rate_limit_storage import REDIS_SERVER, ThrowawayRedis, free_port
from tracker.db import write_intent
from tracker.extensions import db, limiter
from tracker.models import Concern, Message, SystemAlarm
from tracker.services import housekeeping
from tracker.services.concerns import abuse

pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None, reason="redis-server is not installed (apt-get install redis-server)"
)

HANG_GUARD = 60.0  # seconds: a browser gives up long before this; a submission that takes it has hung
LIMIT = "2 per 10 minutes"


@pytest.fixture
def redis_server():
    server = ThrowawayRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_on(app, database_url, build_app):
    """Builds an app on the shared test database whose limits live at `url`; gives the limiter (one
    object) back to the session's app afterwards."""

    def build(url: str):
        abuse.reset_counts()
        return build_app(make_config(database_url, RATELIMIT_STORAGE_URI=url, DEVICE_CONCERN_LIMIT=LIMIT))

    yield build
    limiter.init_app(app)
    abuse.reset_counts()


def open_alarms(app) -> list[str]:
    with app.app_context():
        kinds = list(db.session.scalars(select(SystemAlarm.kind).where(SystemAlarm.cleared_at.is_(None))))
        db.session.rollback()
    return kinds


def stored(app) -> list[tuple[str, bool, int]]:
    """Each concern: its details, whether it was flagged as a burst, and how many texts it queued."""
    with app.app_context():
        rows = db.session.execute(
            select(Concern.worry_details, Concern.flagged_burst, func.count(Message.id))
            .outerjoin(Message, Message.concern_id == Concern.id)
            .group_by(Concern.id)
            .order_by(Concern.id)
        ).all()
        db.session.rollback()
    return [tuple(row) for row in rows]


def submit_guarded(family: FamilyForm, details: str) -> int:
    """Submit in a thread and fail, rather than hang the run, if it never comes back."""
    answer: list[int] = []
    thread = threading.Thread(target=lambda: answer.append(family.submit(worry_details=details).status_code))
    thread.start()
    thread.join(HANG_GUARD)
    assert not thread.is_alive(), f"the submission {details!r} hung on the rate-limit store"
    return answer[0]


def test_with_redis_down_when_the_app_starts_the_form_still_submits_and_counts_in_memory(app_on, trust):
    nothing_there = f"redis://127.0.0.1:{free_port()}/0"  # a port nobody listens on: every connection refused
    app = app_on(nothing_there)
    health = app.test_client()
    family = FamilyForm(app.test_client())
    assert [submit_guarded(family, f"Worry {n}") for n in range(3)] == [303, 303, 303]
    # Every concern is stored with its alert and receipt queued; the limit still holds, counted in memory.
    assert stored(app) == [("Worry 0", False, 2), ("Worry 1", False, 2), ("Worry 2", True, 2)]
    assert open_alarms(app) == ["rate_limit_storage_down"]
    answer = health.get("/healthz").get_json()
    assert answer["status"] == "degraded" and answer["alarms"] == ["rate_limit_storage_down"]


def test_redis_stalling_mid_run_does_not_hold_up_the_form_and_is_visible(app_on, redis_server, trust):
    proxy = StallingProxy(redis_server.port)
    try:
        app = app_on(f"redis://127.0.0.1:{proxy.port}/0")
        family = FamilyForm(app.test_client())
        assert submit_guarded(family, "Before the stall") == 303
        assert redis.Redis(port=redis_server.port).keys("*concern-device*")  # counted in Redis
        proxy.stall()
        assert submit_guarded(family, "During the stall") == 303
        assert proxy.held.is_set()  # the command really went out and no answer came
        assert [submit_guarded(family, f"Still stalled {n}") for n in (2, 3)] == [303, 303]
        # Counted afresh in this server's memory from the stall on (as the alarm says): the third on this
        # device during the stall is flagged as a burst, and every one is taken with its texts queued.
        assert stored(app) == [
            ("Before the stall", False, 2),
            ("During the stall", False, 2),
            ("Still stalled 2", False, 2),
            ("Still stalled 3", True, 2),
        ]
        assert open_alarms(app) == ["rate_limit_storage_down"]
    finally:
        proxy.close()


def test_once_redis_answers_again_the_worker_clears_its_alarm(app_on, redis_server, trust):
    app = app_on(redis_server.url)
    family = FamilyForm(app.test_client())
    redis_server.stop()
    assert submit_guarded(family, "During the outage") == 303
    assert open_alarms(app) == ["rate_limit_storage_down"]

    with app.app_context(), write_intent():  # still down: the worker's round leaves the alarm open
        housekeeping.run()
        db.session.commit()
    assert open_alarms(app) == ["rate_limit_storage_down"]

    redis_server.start()
    with app.app_context(), write_intent():
        housekeeping.run()
        db.session.commit()
    assert open_alarms(app) == []
    assert app.test_client().get("/healthz").get_json()["alarms"] == []


def test_the_stalling_proxy_passes_redis_through_until_stalled(redis_server):
    proxy = StallingProxy(redis_server.port)
    try:
        client = redis.Redis(port=proxy.port, socket_timeout=0.5)
        assert client.ping()
        proxy.stall()
        with pytest.raises(redis.exceptions.TimeoutError):
            client.ping()
        proxy.flow()
        assert redis.Redis(port=proxy.port, socket_timeout=5).ping()
    finally:
        proxy.close()
