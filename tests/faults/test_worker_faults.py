"""The worker dies or loses its database mid-work:
nothing is lost, nothing is sent twice, and escalation neither skips nor repeats a step."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.conftest import ON_POSTGRES, sign_in_directly
from tests.faults.conftest import DEADLINE, advance_past_next_step, all_final, settle, wait_for
from tests.faults.helpers import (
    assert_each_accepted_message_reached_twilio_once,
    audit_changes,
    messages,
    raise_calls,
    steps_fired,
)
from tracker.extensions import db
from tracker.models import SendState
from tracker.services.paging import warnings as staff_warnings

LEASE = timedelta(seconds=60)  # SMS_LEASE_SECONDS, production's default
PAST_THE_LEASE = LEASE + timedelta(seconds=10)  # and short of the 2-minute "not accepted" bound


def why_not_sent(app, rows) -> str:
    """Each message not sent, with the reason its cancellation was audited for (a flaky failure says why)."""
    reasons = {c["_object_id"]: c.get("reason") for c in audit_changes(app, "message_cancelled")}
    return "\n".join(
        f"message {m.id} ({m.template_id}, step {m.escalation_step}, call {m.concern_id}): "
        f"{m.send_state.value}, {reasons.get(m.id)}"
        for m in rows
        if m.send_state is not SendState.ACCEPTED
    )


def states(app) -> list[str]:
    return [m.send_state.value for m in messages(app)]


def reconciled_ids(app) -> set[int]:
    """Messages recorded as sent because Twilio's records showed it had them already."""
    return {c["_object_id"] for c in audit_changes(app, "message_accepted") if c["reconciled"]}


def test_a_worker_killed_mid_batch_loses_nothing_sends_nothing_twice_and_skips_no_step(
    app, clock, twilio, workers, on_call, client
):
    calls = raise_calls(app, on_call["ward"], 3)  # an alert and a receipt each: one batch of six

    held = twilio.hold(nth=3)
    first = workers.start()
    assert held.arrived.wait(DEADLINE), workers.logs()
    # Mid-batch: two texts recorded as sent, the third at Twilio but not recorded, three leased.
    assert states(app) == ["accepted", "accepted", "sending", "sending", "sending", "sending"]
    workers.kill(first)
    held.release()

    second = workers.start()
    settle(app, workers, clock)
    assert states(app).count("sending") == 4  # the dead worker's leases hold until they expire
    clock.advance(seconds=PAST_THE_LEASE.total_seconds())
    settle(app, workers, clock, "the new worker to take over the expired leases")
    all_final(app, workers)
    rows = messages(app)
    assert {m.send_state for m in rows} == {SendState.ACCEPTED}
    assert len(audit_changes(app, "message_lease_expired")) == 4
    in_flight = [next(m.id for m in rows if m.provider_sid == held.record.sid)]
    assert set(in_flight) <= reconciled_ids(app)  # found at Twilio, not sent again
    assert_each_accepted_message_reached_twilio_once(rows, twilio)

    # Five minutes on, the second step (the secondary and the lead) fires for each call; the new
    # worker is killed in the middle of sending it too, and nothing replaces it for a while: the
    # queue tells staff, and the worker started later picks up where the database says.
    held = twilio.hold(nth=3)
    advance_past_next_step(app, clock)
    assert held.arrived.wait(DEADLINE), workers.logs()
    assert states(app).count("sending") == 4  # again mid-batch: two of the second step's six alerts recorded
    workers.kill(second)
    held.release()
    clock.advance(seconds=PAST_THE_LEASE.total_seconds())  # a minute and more with no worker at all
    sign_in_directly(app, client, on_call["people"]["primary"])
    staff_warnings.forget()  # the banner is cached for a few seconds per process, across tests too
    assert "The message worker is not running" in client.get("/triage/queue/rows").get_data(as_text=True)
    workers.start()
    settle(app, workers, clock)
    all_final(app, workers)
    in_flight.append(next(m.id for m in messages(app) if m.provider_sid == held.record.sid))
    advance_past_next_step(app, clock)
    settle(app, workers, clock)
    all_final(app, workers)

    for call in calls:  # every step once, in order: none skipped, none repeated
        assert steps_fired(app, call.id) == [0, 1, 2]
    rows = messages(app)
    assert {m.send_state for m in rows} == {SendState.ACCEPTED}
    assert len(rows) == 3 * (2 + 2 + 1)  # receipts and the primary; the secondary and lead; the primary again
    assert set(in_flight) <= reconciled_ids(app)  # each kill's text in flight: found, not sent again
    assert_each_accepted_message_reached_twilio_once(rows, twilio)


@pytest.mark.postgres
def test_two_worker_processes_on_postgres_fire_each_step_once_and_send_each_text_once(
    app, clock, twilio, workers, on_call
):
    twilio.create_delay = 0.1  # each send takes a moment, so both workers are busy at once
    workers.start()
    workers.start()
    calls = raise_calls(app, on_call["ward"], 12)  # each later step: 24 alerts, more than one batch of 20
    settle(app, workers, clock)
    for _ in (1, 2):  # the second step, then the third
        advance_past_next_step(app, clock)
        settle(app, workers, clock)
    all_final(app, workers)

    for call in calls:
        assert steps_fired(app, call.id) == [0, 1, 2]
    rows = messages(app)
    assert len(rows) == 12 * (2 + 2 + 1)
    assert {m.send_state for m in rows} == {SendState.ACCEPTED}, why_not_sent(app, rows)
    assert_each_accepted_message_reached_twilio_once(rows, twilio)
    assert twilio.most_in_flight == 2  # the two workers really were sending side by side


def test_the_database_unavailable_for_a_moment_does_not_stop_the_worker(app, clock, twilio, workers, on_call):
    worker = workers.start(SQLITE_BUSY_TIMEOUT_MS="300")
    with interrupted_database(app, workers):
        pass
    assert "database unavailable; retrying" in worker.log()
    if ON_POSTGRES:  # its LISTEN connection was cut too: it says so once, polls, and listens again
        wait_for(
            lambda: "listening for new messages again" in worker.log(), "the worker to LISTEN again", workers=workers
        )
        assert worker.log().count("LISTEN connection lost") == 1
    assert worker.alive()
    calls = raise_calls(app, on_call["ward"], 2)  # the same worker carries on
    settle(app, workers, clock)
    all_final(app, workers)
    rows = messages(app)
    assert len(rows) == 4 and {m.send_state for m in rows} == {SendState.ACCEPTED}
    assert {r.to for r in twilio.snapshot()} >= {c.family_number for c in calls}


class interrupted_database:
    """SQLite: another process holds the database locked for longer than the worker's busy
    timeout. PostgreSQL: the worker's connections are terminated by the server
    (pg_terminate_backend) while one of them is in the middle of a pass."""

    def __init__(self, app, workers):
        self.app = app
        self.workers = workers

    def __enter__(self):
        if ON_POSTGRES:
            self._terminate_postgres_backends()
        else:
            self._lock_sqlite()

    def __exit__(self, *exc):
        return False

    def _lock_sqlite(self):
        with self.app.app_context():
            path = db.engine.url.database
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            connection.execute("BEGIN EXCLUSIVE")
            wait_for(
                lambda: "database unavailable; retrying" in self.workers.live()[0].log(),
                "the worker to find the database locked",
                workers=self.workers,
            )
            time.sleep(0.5)  # a few more refused passes
        finally:
            connection.execute("ROLLBACK")
            connection.close()

    def _terminate_postgres_backends(self):
        """Hold a lock the worker's pass needs; once a worker backend waits on it, terminate every
        other backend of this database (the worker's pool and its LISTEN connection)."""
        with self.app.app_context():
            blocker = db.engine.connect()
            try:
                transaction = blocker.begin()
                blocker.execute(text("LOCK TABLE worker_heartbeat IN ACCESS EXCLUSIVE MODE"))
                waiting = text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
                wait_for(
                    lambda: self._scalar(waiting), "a worker to wait for the heartbeat table", workers=self.workers
                )
                terminated = blocker.execute(
                    text(  # from the blocker itself, which is spared
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                    )
                ).scalar()
                assert terminated >= 1
                transaction.rollback()
            finally:
                blocker.close()
        wait_for(
            lambda: "database unavailable; retrying" in self.workers.live()[0].log(),
            "the worker to notice its connection was lost",
            workers=self.workers,
        )

    def _scalar(self, query):
        engine = db.engine
        with engine.connect() as connection:
            return connection.execute(query).scalar()


def test_a_worker_stalled_past_its_lease_sends_nothing_another_has_taken_over(app, clock, twilio, workers, on_call):
    """A send hangs (or the clock jumps) past the batch's lease: the other worker takes the batch over and
    reconciles it. The stalled worker, when its answer comes, must not go on to send the rest of its batch."""
    (call,) = raise_calls(app, on_call["ward"], 1)  # the primary's alert and the family's receipt: one batch
    held = twilio.hold(nth=1)
    # Its own timeout longer than the hold: it waits on the alert until released, however slowly the
    # second worker starts (with the usual 10 s it would give up first and reconcile the alert itself).
    first = workers.start(TWILIO_TIMEOUT_SECONDS="100")
    assert held.arrived.wait(DEADLINE), workers.logs()
    assert states(app) == ["sending", "sending"]  # both leased to the first worker, which waits on the alert
    workers.start()
    clock.advance(seconds=PAST_THE_LEASE.total_seconds())  # as a slow answer, or a clock stepped forward, does

    wait_for(
        lambda: states(app) == ["accepted", "accepted"], "the second worker to take the batch over", workers=workers
    )
    held.release()
    moment = clock.now()
    wait_for(
        lambda: (workers.heartbeat_of(first.pid) or moment) > moment, "the first worker to carry on", workers=workers
    )
    settle(app, workers, clock)

    rows = messages(app)
    assert {m.send_state for m in rows} == {SendState.ACCEPTED}
    assert len(audit_changes(app, "message_lease_expired")) == 2
    alert = next(m for m in rows if m.provider_sid == held.record.sid)
    assert alert.id in reconciled_ids(app)  # found at Twilio: not sent again
    assert len(twilio.sent_to(call.family_number)) == 1, [r.sid for r in twilio.sent_to(call.family_number)]
    assert_each_accepted_message_reached_twilio_once(rows, twilio)


def test_a_killed_worker_shows_as_stale_on_the_health_check_metrics_and_queue(
    app, clock, twilio, workers, on_call, client
):
    worker = workers.start()
    assert client.get("/healthz").get_json()["worker"] == "ok"
    workers.kill(worker)
    clock.advance(seconds=app.config["WORKER_STALE_SECONDS"] + 30)

    health = client.get("/healthz").get_json()
    assert (health["status"], health["worker"]) == ("degraded", "stale")
    assert health["worker_heartbeat_age_seconds"] > app.config["WORKER_STALE_SECONDS"]
    app.config["METRICS_TOKEN"] = token = "m" * 40
    try:
        scrape = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)
    finally:
        app.config["METRICS_TOKEN"] = None
    age = next(line for line in scrape.splitlines() if line.startswith("tracker_worker_heartbeat_age_seconds "))
    assert float(age.split()[1]) > app.config["WORKER_STALE_SECONDS"]
    sign_in_directly(app, client, on_call["people"]["primary"])
    staff_warnings.forget()
    assert "The message worker is not running" in client.get("/triage/queue/rows").get_data(as_text=True)

    workers.start()  # a new worker: healthy again
    assert client.get("/healthz").get_json()["worker"] == "ok"
