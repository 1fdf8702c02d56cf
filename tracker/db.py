"""Engine set-up that differs by database.

SQLite: WAL, synchronous=NORMAL, a busy timeout, foreign keys, and transactions that take the
write lock at BEGIN when the unit of work will write. A deferred SQLite transaction that reads and
then writes fails at once ("database is locked") if another writer committed in between, and the
busy timeout cannot help it; BEGIN IMMEDIATE waits its turn instead. Requests that change things
(POST and the like) and the worker declare their intent; a GET that must write calls
`begin_write()` before its first query.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, ParamSpec, TypeVar, cast

from flask import Flask
from sqlalchemy import CursorResult, Executable, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tracker.extensions import db

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

_write_intent: ContextVar[bool] = ContextVar("tracker_write_intent", default=False)
# Engines that already have the SQLite listeners, so a second configure_engines never adds them twice.
_configured: weakref.WeakSet[Engine] = weakref.WeakSet()


def configure_engines(app: Flask) -> None:
    # Registered after Flask-SQLAlchemy's own teardown, so it runs first (teardowns run in reverse).
    app.teardown_appcontext(_end_session)
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                _configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def _end_session(_error: BaseException | None) -> None:
    """End the request's session, even when the database went away after the view answered: the answer
    stands (what it committed is committed), and a failed ROLLBACK on a dead connection must not turn it into a
    bare 500 (PostgreSQL restarted between the view and its teardown). The pool drops the dead connection."""
    try:
        db.session.remove()
    except SQLAlchemyError:
        log.warning("the database connection was lost as the request ended", exc_info=True)
        db.session.registry.clear()


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    if engine in _configured:
        return
    _configured.add(engine)
    database = engine.url.database
    lock_path = f"{database}-writer.lock" if database and database != ":memory:" else None

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, record):
        # Let SQLAlchemy, not the driver, say when transactions begin (see module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        if lock_path:
            record.info["writer_lock"] = WriterLock(lock_path, busy_timeout_ms / 1000)

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        if _write_intent.get():
            lock = connection.connection._connection_record.info.get("writer_lock")
            if lock is not None:
                lock.acquire()
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection, record):
        # The transaction has ended (committed or rolled back) by the time the connection is back.
        lock = record.info.get("writer_lock")
        if lock is not None:
            lock.release()

    @event.listens_for(engine, "close")
    def on_close(_dbapi_connection, record):
        lock = record.info.pop("writer_lock", None)
        if lock is not None:
            lock.close()


class WriterLock:
    """Queues SQLite writers on a file lock instead of in SQLite's busy handler.

    When BEGIN IMMEDIATE finds the database locked, SQLite's handler sleeps in growing steps (up
    to 100 ms), so a writer can sleep long after the lock is free: under a burst of submissions
    that is most of the tail latency. Writers instead wait here, trying every fraction of a
    millisecond, and reach BEGIN IMMEDIATE when it will succeed. One lock per connection (file
    locks are shared by everything using the same open file)."""

    POLL_SECONDS = 0.0002

    def __init__(self, path: str, timeout: float):
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.timeout = timeout
        self.held = False

    def acquire(self) -> None:
        if self.held:
            return
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.held = True
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return  # let SQLite's own busy timeout decide from here
                time.sleep(self.POLL_SECONDS)

    def release(self) -> None:
        if self.held:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            self.held = False

    def close(self) -> None:
        self.release()
        os.close(self.fd)


def write_intent_active() -> bool:
    return _write_intent.get()


def set_write_intent(value: bool) -> None:
    _write_intent.set(value)


@contextmanager
def write_intent() -> Iterator[None]:
    """Transactions begun inside this block will write (the worker, CLI commands)."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def execute_dml(statement: Executable, session: Session | None = None) -> CursorResult[Any]:
    """Run an UPDATE or DELETE in `session` (by default the request's), typed as the CursorResult it
    returns, whose rowcount callers read: Session.execute() is typed as returning any Result."""
    return cast(CursorResult[Any], (db.session if session is None else session).execute(statement))


def writes(view: Callable[P, R]) -> Callable[P, R]:
    """For a view that writes though it answers a GET (an audited page view, a download's record): its
    write intent is declared before its first query."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        begin_write()
        return view(*args, **kwargs)

    return wrapped


def reads_only(view: Callable[P, R]) -> Callable[P, R]:
    """For a view that only reads and is asked for all the time (the queue and its refresh): on PostgreSQL its
    statements run outside a transaction (autocommit). At READ COMMITTED, PostgreSQL's and ours, each statement
    sees the database as of its own start either way, so nothing read changes; but no BEGIN and ROLLBACK go to the
    server, and the statements stay prepared on the connection, where a ROLLBACK makes psycopg forget them (it
    cannot know what the transaction prepared), so each was planned afresh on every request
    (docs/architecture.md#the-queue). What the view writes it writes in a session of its own, as a page view
    does (the session's activity). SQLite keeps its read transaction: one snapshot, no round trips to save."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        session = db.session()
        if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return view(*args, **kwargs)

    return wrapped


def deferred_write(view: Callable[P, R]) -> Callable[P, R]:
    """For a view that changes things but checks its input first (a password's hash, a webhook's
    signature, the family's form) and then calls `begin_write()` itself, so SQLite's write lock is held
    only while it writes. Other views that change things declare their intent before they start
    (`web/security.py`)."""
    view.__dict__["deferred_write"] = True
    return view


def defers_write(view: Callable[..., object] | None) -> bool:
    return bool(getattr(view, "deferred_write", False))


def begin_write() -> None:
    """Declare, before the first query, that the current unit of work will write.

    If a read-only transaction is already open it is ended first (it has written nothing), so the
    next one begins with the write lock."""
    if not _write_intent.get():
        _write_intent.set(True)
        session = db.session()
        # Only SQLite needs its transaction begun afresh (PostgreSQL locks rows as it writes).
        if session.in_transaction() and session.get_bind().dialect.name == "sqlite":
            # Nothing was written, so what was read stays loaded (no reload after this commit).
            session.expire_on_commit = False
            try:
                session.commit()
            finally:
                session.expire_on_commit = True


@contextmanager
def read_snapshot() -> Iterator[Session]:
    """A session of its own whose reads all see the database as it was at one moment, however much is
    committed meanwhile: on PostgreSQL one REPEATABLE READ, READ ONLY transaction (READ COMMITTED, the
    default, gives each statement a newer view); on SQLite one deferred read transaction (in WAL mode its
    first read fixes the view until it ends). Nothing is written through it; it is closed at the end, and what
    it loaded stays readable. For checks that compare several reads (the audit chain's events and its head)."""
    token = _write_intent.set(False)  # a read: SQLite's write lock is never taken for it
    session = Session(bind=db.engine, expire_on_commit=False)
    try:
        if db.engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True})
        yield session
    finally:
        _write_intent.reset(token)
        session.close()
