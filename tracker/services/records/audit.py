"""Append to and verify the hash-chained audit trail (docs/architecture.md#audit).

`record()` runs in the caller's transaction, so an action and its audit row commit or roll back
together. Appends lock the one-row chain head (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the
transaction already holds the write lock from BEGIN IMMEDIATE), so two transactions can never
link to the same predecessor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict

from sqlalchemy import Row, event, insert, select, update
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from tracker.clock import utcnow
from tracker.db import read_snapshot
from tracker.extensions import db
from tracker.models import GENESIS_HASH, AuditChainHead, AuditEvent

_SCALARS = (str, int, bool, type(None))


@dataclass(frozen=True)
class Actor:
    """Who did it: a kind and, for staff, the user id. Never a name or an address."""

    type: str
    id: int | None = None

    @classmethod
    def public(cls) -> Actor:
        return cls("public")

    @classmethod
    def user(cls, user_id: int) -> Actor:
        return cls("user", user_id)

    @classmethod
    def worker(cls) -> Actor:
        return cls("worker")

    @classmethod
    def system(cls) -> Actor:
        return cls("system")

    @classmethod
    def cli(cls) -> Actor:
        return cls("cli")


class Target(TypedDict):
    """What an event is about, when one is given to several record(..., **target) calls."""

    object_type: str
    object_id: int
    concern_id: int | None


def record(
    action: str,
    actor: Actor,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    concern_id: int | None = None,
    changes: dict[str, Any] | None = None,
    session: Session | scoped_session[Session] | None = None,
) -> AuditEvent:
    """Append one event to the chain in the current transaction (of `session`, by default the
    request's) and return it.

    `changes` maps field names to coded values (str, int, bool, None, or lists of those); free
    text and personal data belong in concern_note, never here."""
    return record_many([Entry(action, actor, object_type, object_id, concern_id, changes)], session=session)[0]


@dataclass(frozen=True)
class Entry:
    """One event to append (see record)."""

    action: str
    actor: Actor
    object_type: str | None = None
    object_id: int | None = None
    concern_id: int | None = None
    changes: dict | None = None


def record_many(entries: list[Entry], session: Session | scoped_session[Session] | None = None) -> list[AuditEvent]:
    """Append several events in order with one multi-row insert. The chain head is written once, as the
    transaction commits (`_write_head`), however many appends it made. The events returned are records of what
    was written, not attached to the session.

    The chain head is the last lock a transaction takes: pending changes are flushed first, so
    their row locks are held before it (a transaction that took the head and then waited for a
    concern row another held, while that one waited for the head, would deadlock on PostgreSQL)."""
    chosen = session if session is not None else db.session
    real = chosen() if isinstance(chosen, scoped_session) else chosen
    if real.info.get(_HEAD_KEY) is None and (real.new or real.dirty or real.deleted):
        real.flush()
    head = _locked_head(real)
    now = utcnow()
    events = []
    for entry in entries:
        changes = dict(entry.changes or {})
        _check_coded(changes)
        event = AuditEvent(
            id=head[0] + 1,
            occurred_at=now,
            actor_type=entry.actor.type,
            actor_id=entry.actor.id,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            concern_id=entry.concern_id,
            changes=changes,
            prev_hash=head[1],
        )
        event.hash = event_hash(event)
        head[0], head[1] = event.id, event.hash
        events.append(event)
    rows = [
        {
            "id": e.id,
            "occurred_at": e.occurred_at,
            "actor_type": e.actor_type,
            "actor_id": e.actor_id,
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "concern_id": e.concern_id,
            "changes": e.changes,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in events
    ]
    waiting = real.info.get(_BATCH_KEY)
    if waiting is not None:
        waiting.extend(rows)
    else:
        real.connection().execute(_INSERT_EVENTS, rows)
    return events


@contextmanager
def batched() -> Iterator[None]:
    """The events appended inside the block (in the request's session) are inserted together as it ends: one
    statement where a family's submission made four. Each is chained as it is appended, so the order and the
    hashes are what separate inserts would give. They are inserted however the block ends, so the head written
    at commit never names an event that is not there; nothing inside may read the trail back, or start a
    savepoint (refused: rolling one back could not take its events out of the batch)."""
    real = db.session()
    if real.info.get(_BATCH_KEY) is not None:
        yield  # already inside a batch: the outer one inserts
        return
    waiting: list[dict[str, Any]] = []
    real.info[_BATCH_KEY] = waiting
    try:
        yield
    except BaseException:
        real.info.pop(_BATCH_KEY, None)
        if waiting:
            # A failed statement may have ended the transaction (PostgreSQL refuses every statement after it): the
            # caller must see that error (a lost database is the kind 503), never this insert's.
            with suppress(Exception):
                real.connection().execute(_INSERT_EVENTS, waiting)
        raise
    real.info.pop(_BATCH_KEY, None)
    if waiting:
        real.connection().execute(_INSERT_EVENTS, waiting)


_BATCH_KEY = "tracker_audit_batch"


# Built once: appends run on every action, so they skip building statements each time.
_INSERT_EVENTS = insert(AuditEvent.__table__)
_UPDATE_HEAD = update(AuditChainHead.__table__).where(AuditChainHead.__table__.c.id == 1)


def _locked_head(session: Session) -> list[Any]:
    """[last event id, last hash, the id the head row holds], locked for the rest of this transaction
    (PostgreSQL: FOR UPDATE; SQLite: the transaction already holds the write lock). Read once per transaction:
    later appends in it hold the lock already and keep these values current."""
    head = session.info.get(_HEAD_KEY)
    if head is not None:
        return head
    table = AuditChainHead.__table__
    row: Sequence[Any] | None = session.connection().execute(_LOCK_HEAD).one_or_none()
    if row is None:
        session.execute(insert(table).values(id=1, last_event_id=0, last_hash=GENESIS_HASH))
        row = (0, GENESIS_HASH)
    head = [row[0], row[1], row[0]]
    session.info[_HEAD_KEY] = head
    return head


_HEAD_KEY = "tracker_audit_chain_head"
_LOCK_HEAD = (
    select(AuditChainHead.__table__.c.last_event_id, AuditChainHead.__table__.c.last_hash)
    .where(AuditChainHead.__table__.c.id == 1)
    .with_for_update()
)


@event.listens_for(Session, "before_commit")
def _write_head(session: Session) -> None:
    """Move the chain head to this transaction's last event, once, just before it commits: in the transaction,
    so the events and the head commit or roll back together. The row was locked when the first event was
    appended, so writing it late changes no lock order (docs/architecture.md#audit). A savepoint's release
    writes nothing: the outermost commit does."""
    head = session.info.get(_HEAD_KEY)
    if head is None or head[2] == head[0] or session.in_nested_transaction():
        return
    session.connection().execute(_UPDATE_HEAD, {"last_event_id": head[0], "last_hash": head[1]})
    head[2] = head[0]


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    # The head as a savepoint starts (None: not read yet), so rolling the savepoint back rolls it back too.
    if transaction.nested:
        if session.info.get(_BATCH_KEY) is not None:
            raise RuntimeError("a savepoint inside audit.batched(): its events could not be rolled back with it")
        head = session.info.get(_HEAD_KEY)
        session.info.setdefault(_SAVEPOINTS_KEY, {})[transaction] = None if head is None else list(head)


@event.listens_for(Session, "after_soft_rollback")
def _undo_savepoint(session: Session, previous: SessionTransaction) -> None:
    """A savepoint rolled back took its events with it: the head goes back to where the savepoint began, so the
    next append (and the head written at commit) link to an event that exists."""
    marks = session.info.get(_SAVEPOINTS_KEY) or {}
    if not previous.nested or previous not in marks:
        return
    head = marks.pop(previous)
    if head is None:
        session.info.pop(_HEAD_KEY, None)  # read afresh by the next append
    else:
        session.info[_HEAD_KEY] = head


@event.listens_for(Session, "after_transaction_end")
def _forget_head(session: Session, transaction: SessionTransaction) -> None:
    # The lock ends with the outermost transaction; the next one must lock and read afresh.
    if transaction.parent is None:
        session.info.pop(_HEAD_KEY, None)
        session.info.pop(_SAVEPOINTS_KEY, None)


_SAVEPOINTS_KEY = "tracker_audit_savepoints"


def _check_coded(changes: dict) -> None:
    for key, value in changes.items():
        if not isinstance(key, str):
            raise TypeError("audit change keys are field names")
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, _SCALARS) for v in values):
            raise TypeError(f"audit change {key!r} must hold coded values, not {type(value).__name__}")


def format_timestamp(moment: datetime) -> str:
    """One UTC format, so SQLite and PostgreSQL rows hash alike."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# An event, or its row as read without the ORM (audit_log.walk): the same names either way.
def canonical_bytes(event: AuditEvent | Row) -> bytes:
    payload = {
        "id": event.id,
        "occurred_at": format_timestamp(event.occurred_at),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "concern_id": event.concern_id,
        "changes": event.changes or {},
        "prev_hash": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def event_hash(event: AuditEvent | Row) -> str:
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events_checked: int
    first_broken_id: int | None = None
    problem: str | None = None
    last_id: int = 0  # the last event found good, and its hash: where a check that continues starts
    last_hash: str = GENESIS_HASH


def verify_chain() -> ChainReport:
    """Walk the whole chain in order and name the first row that does not fit. The events and the chain
    head are read in one snapshot (`db.read_snapshot`): events committed while it runs are neither half
    seen nor taken for rows removed from the end."""
    with read_snapshot() as session:
        result = walk(session, 0, GENESIS_HASH)
        head = head_of_chain(session)
    if result.ok and head != (result.last_id, result.last_hash):
        return ChainReport(
            False,
            result.checked,
            result.last_id + 1,
            "the chain head does not match the last event (rows removed from the end)",
            result.last_id,
            result.last_hash,
        )
    return ChainReport(result.ok, result.checked, result.broken_id, result.problem, result.last_id, result.last_hash)


def head_of_chain(session: Session) -> tuple[int, str]:
    """(last event id, its hash) as the chain head holds them, read afresh (never from the session's map)."""
    table = AuditChainHead.__table__
    row = session.execute(select(table.c.last_event_id, table.c.last_hash).where(table.c.id == 1)).one_or_none()
    return (row[0], row[1]) if row is not None else (0, GENESIS_HASH)


@dataclass(frozen=True)
class Walk:
    ok: bool
    last_id: int
    last_hash: str
    checked: int
    broken_id: int | None = None
    problem: str | None = None


_BATCH = 5000


def walk(session: Session, after_id: int, after_hash: str, limit: int | None = None) -> Walk:
    """Check events after `after_id` in order, each against its predecessor and its own hash, up
    to `limit` events. Reads plain rows in batches (no ORM objects), so it is cheap per event; the
    one loop both the whole check and the audit viewer's check from a checkpoint use."""
    table = AuditEvent.__table__
    statement = select(table).where(table.c.id > after_id).order_by(table.c.id)
    if limit is not None:
        statement = statement.limit(limit)
    expected_id, expected_prev, count = after_id + 1, after_hash, 0
    # Closed on every return, so PostgreSQL's server-side cursor never outlives the check.
    with session.execute(statement.execution_options(yield_per=_BATCH)) as result:
        for row in result:
            problem = None
            if row.id != expected_id:
                problem = f"expected event {expected_id} next, found {row.id} (events missing)"
            elif row.prev_hash != expected_prev:
                problem = "its link to the previous event does not match"
            elif event_hash(row) != row.hash:
                problem = "its contents do not match its hash (edited)"
            if problem:
                return Walk(False, expected_id - 1, expected_prev, count, row.id, problem)
            expected_id, expected_prev, count = row.id + 1, row.hash, count + 1
    return Walk(True, expected_id - 1, expected_prev, count)
