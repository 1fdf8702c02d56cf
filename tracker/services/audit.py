"""Append to and verify the hash-chained audit trail (design §6).

`record()` runs in the caller's transaction, so an action and its audit row commit or roll back
together. Appends lock the one-row chain head (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the
transaction already holds the write lock from BEGIN IMMEDIATE), so two transactions can never
link to the same predecessor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from tracker.clock import utcnow
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


def record(
    action: str,
    actor: Actor,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    concern_id: int | None = None,
    changes: dict | None = None,
    session=None,
) -> AuditEvent:
    """Append one event to the chain in the current transaction (of `session`, by default the
    request's) and return it.

    `changes` maps field names to coded values (str, int, bool, None, or lists of those); free
    text and personal data belong in concern_note, never here."""
    changes = dict(changes or {})
    _check_coded(changes)
    session = session if session is not None else db.session
    head = session.execute(
        select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if head is None:
        head = AuditChainHead(id=1, last_event_id=0, last_hash=GENESIS_HASH)
        session.add(head)
    event = AuditEvent(
        id=head.last_event_id + 1,
        occurred_at=utcnow(),
        actor_type=actor.type,
        actor_id=actor.id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        concern_id=concern_id,
        changes=changes,
        prev_hash=head.last_hash,
    )
    event.hash = event_hash(event)
    head.last_event_id = event.id
    head.last_hash = event.hash
    session.add(event)
    return event


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


def canonical_bytes(event: AuditEvent) -> bytes:
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


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events_checked: int
    first_broken_id: int | None = None
    problem: str | None = None


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Walk the whole chain in order and name the first row that does not fit."""
    rows: Iterable[AuditEvent] = db.session.scalars(
        select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch_size)
    )
    expected_prev, expected_id, count = GENESIS_HASH, 1, 0
    for event in rows:
        if event.id != expected_id:
            return ChainReport(False, count, event.id, f"expected event {expected_id} next, found {event.id} (rows missing)")
        if event.prev_hash != expected_prev:
            return ChainReport(False, count, event.id, "its link to the previous event does not match")
        if event_hash(event) != event.hash:
            return ChainReport(False, count, event.id, "its contents do not match its hash (edited)")
        expected_prev, expected_id, count = event.hash, event.id + 1, count + 1
    head = db.session.get(AuditChainHead, 1)
    last_id, last_hash = (head.last_event_id, head.last_hash) if head else (0, GENESIS_HASH)
    if (last_id, last_hash) != (expected_id - 1, expected_prev):
        return ChainReport(False, count, expected_id, "the chain head does not match the last event (rows removed from the end)")
    return ChainReport(True, count)
