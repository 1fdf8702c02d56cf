"""The worker loop (`flask tracker worker`): send due outbox messages and keep a heartbeat.

Every step takes ids, re-reads rows and records its outcome in its own short transaction, so a
killed worker loses nothing: its leases expire and the next run reconciles them."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import socket
import threading
import time
import urllib.request
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import WorkerHeartbeat
from tracker.outbox import delivery
from tracker.outbox.sender import sender_for
from tracker.services import housekeeping
from tracker.services.paging import escalation
from tracker.sms import SmsSender

if TYPE_CHECKING:  # imported when first needed: only PostgreSQL deployments LISTEN
    import psycopg

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, app: Flask, sender: SmsSender | None = None, batch_size: int = 20):
        self.app = app
        self.sender = sender or sender_for(app)
        self.batch_size = batch_size
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.stopping = threading.Event()
        self._last_beat = 0.0
        self._last_housekeeping: datetime | None = None

    def run_once(self) -> delivery.BatchReport:
        """One pass: heartbeat if due, one batch of due messages, then the escalation steps and
        review reminders that are due. Sending comes first because a new call's first alert is
        already in the outbox when the worker wakes: it leaves without waiting for the step
        checks. Alerts a step adds are sent on the next pass, which follows at once (the pass
        reports work done, so the loop does not sleep)."""
        report = delivery.BatchReport()
        with self.app.app_context(), write_intent():
            self._heartbeat_if_due()
            claimed = delivery.claim_due(self.worker_id, self.batch_size)
            db.session.commit()
            for item in claimed:
                still_ours = delivery.keep_lease(item.sms.message_id, self.worker_id)
                db.session.commit()
                if not still_ours:  # taken over after our lease expired: the new owner reconciles it
                    report.add("lease_lost")
                    continue
                outcome, detail = delivery.attempt(item, self.sender)
                report.add(delivery.record_outcome(item.sms.message_id, self.worker_id, outcome, detail))
                db.session.commit()
            fired = escalation.tick()
            if fired:
                report.add("escalation_steps")
            db.session.commit()
            self._housekeeping_if_due()
        return report

    def _housekeeping_if_due(self) -> None:
        # By the app's clock, not the process's: the tests move the former (even backwards).
        now = utcnow()
        if (
            self._last_housekeeping is not None
            and timedelta(0) <= now - self._last_housekeeping < housekeeping.INTERVAL
        ):
            return
        housekeeping.run(now)
        db.session.commit()
        self._last_housekeeping = now

    def run(self) -> None:
        poll = self.app.config["WORKER_POLL_SECONDS"]
        log.info("worker %s started (SMS backend: %s)", self.worker_id, self.sender.name)
        listener = Listener.for_app(self.app)
        pinger = HeartbeatPinger.for_app(self.app, self.stopping)
        if pinger:
            pinger.start()
        while not self.stopping.is_set():
            try:
                report = self.run_once()
            except OperationalError:
                # The database restarted or is busy: back off and try again; nothing is lost.
                log.exception("database unavailable; retrying")
                self.stopping.wait(min(5.0, poll * 10))
                continue
            except SQLAlchemyError:
                log.exception("database error in worker pass")
                self.stopping.wait(poll)
                continue
            if report.handled == 0:
                if listener:
                    listener.wait(poll)  # a new message wakes the worker at once (PostgreSQL NOTIFY)
                else:
                    self.stopping.wait(poll)
        if listener:
            listener.close()
        log.info("worker %s stopped", self.worker_id)

    def install_signal_handlers(self) -> None:
        def stop(signum, _frame):
            log.info("signal %s: finishing the current pass, then stopping", signum)
            self.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def _heartbeat_if_due(self) -> None:
        if time.monotonic() - self._last_beat < self.app.config["WORKER_HEARTBEAT_SECONDS"]:
            return
        beat = db.session.get(WorkerHeartbeat, self.worker_id)
        if beat is None:
            db.session.add(
                WorkerHeartbeat(
                    worker_id=self.worker_id,
                    hostname=socket.gethostname()[:120],
                    pid=os.getpid(),
                    started_at=utcnow(),
                    beat_at=utcnow(),
                )
            )
        else:
            beat.beat_at = utcnow()
        self._last_beat = time.monotonic()


class Listener:
    """PostgreSQL LISTEN on the outbox channel: an insert's NOTIFY (sent at commit) wakes the
    worker within a millisecond instead of at its next poll. Polling stays as the safety net.

    A lost connection (the database restarted) is reported once and opened again, at most every
    RECONNECT_SECONDS, while the worker polls meanwhile."""

    CHANNEL = "tracker_outbox"
    RECONNECT_SECONDS = 5.0

    def __init__(self, url: str):
        self.url = url
        self.connection: psycopg.Connection[Any] | None = None
        self._retry_at = 0.0
        self._connect()

    def _connect(self) -> None:
        import psycopg

        self.connection = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
        self.connection.execute(f"LISTEN {self.CHANNEL}")

    @classmethod
    def for_app(cls, app: Flask) -> Listener | None:
        with app.app_context():
            url = db.engine.url
        if url.get_backend_name() != "postgresql":
            return None
        try:
            return cls(url.set(drivername="postgresql").render_as_string(hide_password=False))
        except Exception:
            log.exception("could not LISTEN for new messages; polling only")
            return None

    def wait(self, seconds: float) -> None:
        if self.connection is None and time.monotonic() >= self._retry_at:
            try:
                self._connect()
                log.info("listening for new messages again")
            except Exception as exc:
                self._drop()
                log.warning("could not LISTEN for new messages (%s); polling meanwhile", exc)
        if self.connection is None:
            time.sleep(seconds)
            return
        try:
            for _notification in self.connection.notifies(timeout=seconds, stop_after=1):
                break
        except Exception:
            log.exception("LISTEN connection lost; polling until it is back")
            self._drop()
            time.sleep(seconds)

    def _drop(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):  # already broken
                self.connection.close()
        self.connection = None
        self._retry_at = time.monotonic() + self.RECONNECT_SECONDS

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


class HeartbeatPinger(threading.Thread):
    """Calls the trust's monitoring URL every minute while the worker runs (a dead man's switch:
    the monitoring alarms when the calls stop)."""

    def __init__(self, url: str, interval: float, stopping: threading.Event):
        if urlsplit(url).scheme not in ("http", "https"):
            # urlopen would also read file: and ftp: addresses; the monitoring is only ever a web address
            raise ValueError(f"HEARTBEAT_URL must be an http:// or https:// address, not {url!r}")
        super().__init__(daemon=True, name="heartbeat-pinger")
        self.url = url
        self.interval = interval
        self.stopping = stopping

    @classmethod
    def for_app(cls, app: Flask, stopping: threading.Event) -> HeartbeatPinger | None:
        url = app.config.get("HEARTBEAT_URL")
        return cls(url, app.config["HEARTBEAT_URL_SECONDS"], stopping) if url else None

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=10) as response:  # noqa: S310 (http(s) only: __init__)
                    response.read(1024)
            except Exception as exc:  # the monitoring is down or unreachable: it will alarm on its own
                log.warning("heartbeat URL did not answer: %s", exc)
            self.stopping.wait(self.interval)
