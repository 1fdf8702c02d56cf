"""The worker sends the outbox: re-checks each message is still wanted, retries safely, never
sends twice what the provider may already have, and ends permanent failures visibly (docs/architecture.md#messages)."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import select, update

from tests.conftest import build_trust
from tests.services.test_concerns import raise_one
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import AuditEvent, Concern, ConcernStatus, Message, SendState, WorkerHeartbeat
from tracker.services.records import audit
from tracker.sms import AmbiguousFailure, OutgoingSms, PermanentFailure, TemporaryFailure
from tracker.sms.console import ConsoleSender
from tracker.worker import Worker


@pytest.fixture
def concern(ctx):
    ward = build_trust()["ward"]
    raised = raise_one(ward).concern
    values = SimpleNamespace(id=raised.id, reference=raised.reference)
    # These tests are about sending; keep the escalation engine from paging again meanwhile.
    db.session.execute(update(Concern).where(Concern.id == raised.id).values(next_escalation_at=None))
    db.session.commit()
    db.session.rollback()  # release SQLite's write lock before the worker runs
    return values


@pytest.fixture
def worker(app, sms):
    return Worker(app, sender=sms)


def states():
    """The messages as now committed. Ends the test's own transaction, so the worker (a separate
    session, as in production) is never kept waiting for the write lock."""
    db.session.rollback()
    rows = {m.template_id: m for m in db.session.scalars(select(Message))}
    db.session.expunge_all()
    db.session.rollback()
    return rows


def test_due_messages_are_sent_and_recorded(concern, worker, sms):
    report = worker.run_once()
    assert report.outcomes == {"accepted": 2}
    sent = states()
    assert {t: m.send_state for t, m in sent.items()} == {
        "clinician_alert": SendState.ACCEPTED,
        "family_receipt": SendState.ACCEPTED,
    }
    assert all(m.provider_sid and m.body and m.attempts == 1 for m in sent.values())
    assert concern.reference in sms.texts_to("+447400123456")[0]
    assert "Pat Jones" not in sms.texts_to("+447400123456")[0]
    db.session.expire_all()
    assert db.session.get(Concern, concern.id).first_alert_sent_at is not None
    assert audit.verify_chain().ok


def test_an_alert_for_a_call_already_claimed_is_cancelled_not_sent_late(concern, worker, sms):
    db.session.execute(update(Concern).where(Concern.id == concern.id).values(status=ConcernStatus.ACKNOWLEDGED))
    db.session.commit()
    worker.run_once()
    sent = states()
    assert sent["clinician_alert"].send_state is SendState.CANCELLED
    assert sent["family_receipt"].send_state is SendState.ACCEPTED
    assert [s.to for s in sms.sent] == ["+447400123456"]


def test_a_refused_connection_is_retried_with_backoff_then_sent_once(concern, worker, sms):
    sms.fail_next(TemporaryFailure("connection refused"), TemporaryFailure("connection refused"))
    worker.run_once()
    pending = [m for m in states().values() if m.send_state is SendState.PENDING]
    assert len(pending) == 2 and all(m.next_attempt_at > utcnow() for m in pending)
    assert all(m.error_reason == "connection refused" for m in pending)
    assert worker.run_once().handled == 0  # not yet due
    with time_machine.travel(utcnow() + timedelta(minutes=10), tick=False):
        assert worker.run_once().outcomes == {"accepted": 2}
    assert len(sms.sent) == 2 and sms.attempts == 4


def test_repeated_temporary_failures_end_in_dead_with_a_reason(concern, worker, sms, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_MAX_ATTEMPTS", 3)
    moment = utcnow()
    for _ in range(3):
        sms.fail_next(TemporaryFailure("Twilio is unavailable"), TemporaryFailure("Twilio is unavailable"))
        with time_machine.travel(moment, tick=False):
            worker.run_once()
        moment += timedelta(hours=1)
    dead = states()
    assert all(m.send_state is SendState.DEAD for m in dead.values())
    assert dead["clinician_alert"].error_reason.startswith("Gave up after 3 attempts")
    assert sms.sent == []


def test_a_permanent_error_ends_the_message_at_once_with_a_plain_reason(concern, worker, sms):
    sms.fail_next(PermanentFailure("This number cannot receive texts.", code="21614"))
    worker.run_once()
    dead = [m for m in states().values() if m.send_state is SendState.DEAD]
    assert len(dead) == 1 and dead[0].error_code == "21614"
    assert dead[0].error_reason == "This number cannot receive texts."
    assert "message_dead" in [e.action for e in db.session.scalars(select(AuditEvent))]


def test_an_unclear_send_is_reconciled_and_not_sent_twice(concern, worker, sms):
    sms.accept_then_fail_next(AmbiguousFailure("read timed out"))
    worker.run_once()
    unknown = [m for m in states().values() if m.send_state is SendState.UNKNOWN]
    assert len(unknown) == 1
    with time_machine.travel(utcnow() + timedelta(minutes=10), tick=False):
        assert worker.run_once().outcomes == {"reconciled": 1}
    assert all(m.send_state is SendState.ACCEPTED for m in states().values())
    assert len(sms.sent) == 2  # the provider has each text once


def test_an_unclear_send_that_the_provider_never_got_is_sent_again(concern, worker, sms):
    sms.fail_next(AmbiguousFailure("502 from the provider"))
    worker.run_once()
    with time_machine.travel(utcnow() + timedelta(minutes=10), tick=False):
        assert worker.run_once().outcomes == {"accepted": 1}
    assert len(sms.sent) == 2


def test_a_look_up_never_mistakes_an_earlier_identical_text_for_this_one(concern, worker, sms, app):
    from tracker.models import Audience, RecipientKind
    from tracker.services.messaging.notifications import queue_message

    worker.run_once()  # the receipt goes; the provider has it
    receipt = states()["family_receipt"]
    queue_message(
        concern=db.session.get(Concern, concern.id),
        audience=Audience.FAMILY,
        recipient_kind=RecipientKind.CALLER,
        to_number=receipt.to_number,
        template_id="family_receipt",
        variables=receipt.variables,
        locale="en",
        idempotency_key="the-same-words-again",
        actor=audit.Actor.system(),
    )
    db.session.commit()
    sms.fail_next(AmbiguousFailure("read timed out"))  # ... and the provider never got the second one
    worker.run_once()
    with time_machine.travel(utcnow() + timedelta(minutes=10), tick=False):
        assert worker.run_once().outcomes == {"accepted": 1}  # sent, not "found" as the first one
    second = db.session.scalar(select(Message).where(Message.idempotency_key == "the-same-words-again"))
    assert second.provider_sid != receipt.provider_sid
    assert sms.texts_to(receipt.to_number).count(receipt.body) == 2


def test_a_look_up_that_keeps_failing_gives_up_with_an_alarm(concern, worker, sms, app, monkeypatch):
    from tracker.models import SystemAlarm

    monkeypatch.setitem(app.config, "SMS_MAX_ATTEMPTS", 3)
    sms.fail_next(AmbiguousFailure("read timed out"), AmbiguousFailure("read timed out"))
    worker.run_once()

    def look_up_fails(_sms):
        raise AmbiguousFailure("Could not check with Twilio whether it was sent: Twilio could not be reached.")

    monkeypatch.setattr(sms, "find_sent", look_up_fails)
    moment = utcnow()
    for _ in range(2):
        moment += timedelta(hours=1)
        with time_machine.travel(moment, tick=False):
            worker.run_once()
    dead = states()
    assert {m.send_state for m in dead.values()} == {SendState.DEAD}
    assert dead["family_receipt"].error_reason.startswith("It could not be checked with the provider")
    assert db.session.scalar(select(SystemAlarm.kind).where(SystemAlarm.kind == "sms_reconcile_failing"))
    assert sms.sent == []


def test_refused_credentials_keep_the_messages_waiting_and_raise_the_alarm(concern, worker, sms):
    from tracker.models import SystemAlarm

    refused = TemporaryFailure("Twilio refused our account details", "20003", alarm="sms_account_refused")
    sms.fail_next(refused, refused)
    worker.run_once()
    assert {m.send_state for m in states().values()} == {SendState.PENDING}
    assert db.session.scalar(select(SystemAlarm.kind).where(SystemAlarm.kind == "sms_account_refused"))


def test_a_worker_killed_mid_send_leaves_a_lease_the_next_worker_reconciles(concern, app, sms):
    from tracker.outbox import delivery

    crashed = Worker(app, sender=sms)
    claimed = delivery.claim_due(crashed.worker_id)  # leased, then the process dies before recording
    db.session.commit()
    sms.send(claimed[0].sms)  # the provider did get the first one
    assert {m.send_state for m in states().values()} == {SendState.SENDING}
    with time_machine.travel(utcnow() + timedelta(minutes=5), tick=False):
        report = Worker(app, sender=sms).run_once()
    assert report.outcomes == {"reconciled": 1, "accepted": 1}
    assert len(sms.sent) == 2
    assert "message_lease_expired" in [e.action for e in db.session.scalars(select(AuditEvent))]


def test_a_late_result_from_a_worker_whose_lease_expired_changes_nothing(concern, app, sms):
    from tracker.outbox import delivery

    slow = Worker(app, sender=sms)
    claimed = delivery.claim_due(slow.worker_id)
    db.session.commit()
    with time_machine.travel(utcnow() + timedelta(minutes=5), tick=False):
        Worker(app, sender=sms).run_once()
    outcome = delivery.record_outcome(claimed[0].sms.message_id, slow.worker_id, "accepted", sms.send(claimed[0].sms))
    assert outcome == "lease_lost"


def test_the_worker_writes_a_heartbeat(app, worker, ctx):
    worker.run_once()
    beat = db.session.scalars(select(WorkerHeartbeat)).one()
    assert beat.worker_id == worker.worker_id
    assert (utcnow() - beat.beat_at).total_seconds() < 5


def test_the_console_backend_prints_records_and_finds_what_it_sent(tmp_path):
    stream = io.StringIO()
    sender = ConsoleSender(str(tmp_path / "sms.jsonl"), stream=stream)
    sms = OutgoingSms(1, "+447400123456", "Hello", "key-1", utcnow())
    result = sender.send(sms)
    assert "--- SMS to +447400123456" in stream.getvalue() and "Hello" in stream.getvalue()
    assert ConsoleSender(str(tmp_path / "sms.jsonl")).find_sent(sms).sid == result.sid  # found after a restart
    assert sender.find_sent(OutgoingSms(2, "+447400123456", "Hello", "key-2", utcnow())) is None


def test_the_worker_pings_the_trusts_heartbeat_url_and_carries_on_when_it_is_down():
    """The dead man's switch: the trust's monitoring alarms when these calls stop."""
    import http.server
    import socket
    import threading
    import time

    from tracker.worker import HeartbeatPinger

    hits = []

    class Monitor(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Monitor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stopping = threading.Event()
    with socket.socket() as unused:  # a port nobody listens on: the monitoring is down
        unused.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{unused.getsockname()[1]}/ping"
    down = HeartbeatPinger(dead_url, 0.02, stopping)
    up = HeartbeatPinger(f"http://127.0.0.1:{server.server_address[1]}/ping/tracker", 0.02, stopping)
    down.start()
    up.start()
    deadline = time.monotonic() + 10
    while len(hits) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    stopping.set()
    up.join(timeout=5)
    down.join(timeout=5)
    server.shutdown()
    server.server_close()
    assert len(hits) >= 3 and set(hits) == {"/ping/tracker"}
    assert not down.is_alive()  # a refused ping never killed the thread before it was told to stop


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/ping", "/ping", "data:,ok"])
def test_the_heartbeat_pinger_only_calls_web_addresses(url):
    """urlopen also reads local files and FTP (bandit B310): a mistyped HEARTBEAT_URL must stop the
    worker at start, never be read every minute."""
    import threading

    from tracker.worker import HeartbeatPinger

    with pytest.raises(ValueError, match="HEARTBEAT_URL"):
        HeartbeatPinger(url, 60, threading.Event())


@pytest.mark.postgres
def test_a_new_message_wakes_a_listening_worker_at_once_on_postgres(app, ctx):
    """NOTIFY at commit wakes the worker without waiting for its next poll (polling stays as the
    safety net)."""
    import time

    from tracker.models import Audience, RecipientKind
    from tracker.services.messaging.notifications import queue_message
    from tracker.worker import Listener

    listener = Listener.for_app(app)
    assert listener is not None
    try:
        started = time.monotonic()
        queue_message(
            concern=None,
            audience=Audience.CLINICIAN,
            recipient_kind=RecipientKind.CONTACT,
            to_number="+447400100001",
            template_id="rota_test",
            variables={"team": "T", "tier": "primary"},
            locale="en",
            idempotency_key="wake-up",
            actor=audit.Actor.system(),
        )
        db.session.commit()
        listener.wait(30)  # returns as soon as the notification arrives
        assert time.monotonic() - started < 10
    finally:
        listener.close()
