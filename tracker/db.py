"""Engine set-up that differs by database.

SQLite: WAL, synchronous=NORMAL, a busy timeout, foreign keys, and transactions that take the
write lock at BEGIN when the unit of work will write. A deferred SQLite transaction that reads and
then writes fails at once ("database is locked") if another writer committed in between, and the
busy timeout cannot help it; BEGIN IMMEDIATE waits its turn instead. Requests that change things
(POST and the like) and the worker declare their intent; a GET that must write calls
`begin_write()` before its first query.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tracker.extensions import db

_write_intent: ContextVar[bool] = ContextVar("tracker_write_intent", default=False)


def configure_engines(app: Flask) -> None:
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                _configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    if getattr(engine, "_tracker_configured", False):
        return
    engine._tracker_configured = True

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, say when transactions begin (see module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


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
