"""Staff sessions (docs/architecture.md#sessions): kept in the database, the browser holding only a random token whose
hash is the key. Each request checks the idle timeout (a trust setting), the absolute timeout and revocation;
activity is written at most once a minute, in a transaction of its own."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from tracker.clock import utcnow
from tracker.db import execute_dml, write_intent, write_intent_active
from tracker.extensions import db
from tracker.models import SessionRecord, User
from tracker.services import scope
from tracker.services.records import audit
from tracker.services.setup.settings import current_settings

FRESH_SIGN_IN = timedelta(minutes=5)  # how recent a sign-in must be to change the authenticator
ABSOLUTE_TIMEOUT = timedelta(hours=12)
IDLE_WARNING = timedelta(minutes=2)


# A session's last activity is written at most this often, so most requests only read.
ACTIVITY_WRITE_INTERVAL = timedelta(seconds=30)


def needs_mfa(user: User) -> bool:
    return scope.needs_authenticator(user) or current_settings().mfa_for_all_staff


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    user: User, *, user_agent: str | None, address: str | None, mfa: bool = False, sign_on: bool = False
) -> tuple[str, SessionRecord]:
    """Record a new signed-in session; returns its token (for the cookie, never stored) and row.
    `mfa` says a code from the authenticator was checked on the way in; `sign_on` that the trust's own
    account signed the person in (docs/architecture.md#sign-on)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    record = SessionRecord(
        token_hash=token_hash(token),
        user_id=user.id,
        created_at=now,
        last_active_at=now,
        authenticated_at=now,
        mfa_at=now if mfa else None,
        sign_on=sign_on,
        user_agent=(user_agent or "")[:200],
        address=address,
    )
    db.session.add(record)
    user.last_sign_in_at = now
    db.session.flush()
    audit.record(
        "signed_in",
        audit.Actor.user(user.id),
        object_type="session",
        object_id=record.id,
        changes={"mfa": bool(user.totp_secret) and needs_mfa(user), **({"sign_on": True} if sign_on else {})},
    )
    return token, record


@dataclass
class LiveSession:
    record: SessionRecord
    user: User

    @property
    def idle_expires_at(self) -> datetime:
        return self.record.last_active_at + timedelta(minutes=current_settings().idle_timeout_minutes)

    @property
    def fresh(self) -> bool:
        return utcnow() - self.record.authenticated_at <= FRESH_SIGN_IN

    @property
    def fresh_code(self) -> bool:
        """A code from the authenticator was checked in the last few minutes (changing it needs one)."""
        return self.record.mfa_at is not None and utcnow() - self.record.mfa_at <= FRESH_SIGN_IN


@dataclass(frozen=True)
class Ended:
    """A token that names a session which has ended, and whose it was."""

    user_id: int
    reason: str


def load_session(token: str, *, activity: bool) -> LiveSession | Ended | None:
    """The live session for a cookie's token, or Ended (with whose it was), or None if unknown.

    `activity` says whether this request was the person's own doing (the queue's automatic
    refresh is not); only then does it push the idle timeout back."""
    if not token or len(token) > 100:
        return None
    found = db.session.execute(_session_with_user().where(SessionRecord.token_hash == token_hash(token)))
    record: SessionRecord | None = found.unique().scalar_one_or_none()
    if record is None:
        return None
    if record.revoked_at is not None:
        return Ended(record.user_id, record.revoked_reason or "revoked")
    now = utcnow()
    idle = timedelta(minutes=current_settings().idle_timeout_minutes)
    reason = None
    if now - record.created_at > ABSOLUTE_TIMEOUT:
        reason = "absolute_timeout"
    elif now - record.last_active_at > idle:
        reason = "idle_timeout"
    elif not record.user.active:
        reason = "account_disabled"
    # A request that writes anyway (a POST) records this in its own transaction; a page view keeps
    # its transaction read-only and writes these on the side. (A second write transaction from
    # a request that already holds SQLite's write lock would wait for itself.)
    if reason:
        if write_intent_active():
            record.revoked_at, record.revoked_reason = now, reason
            audit.record(
                "session_ended",
                audit.Actor.user(record.user_id),
                object_type="session",
                object_id=record.id,
                changes={"reason": reason},
            )
        else:
            _revoke_in_own_transaction(record.id, record.user_id, reason)
        return Ended(record.user_id, reason)
    if activity and now - record.last_active_at >= ACTIVITY_WRITE_INTERVAL:
        if write_intent_active():
            record.last_active_at = now
        else:
            _touch_in_own_transaction(record.id, now)
            set_committed_value(record, "last_active_at", now)  # already saved: not a change to flush
    return LiveSession(record, record.user)


@cache
def _session_with_user() -> Select[SessionRecord]:
    """The session with its person and their teams, in one statement: every signed-in request needs all three
    (the teams for the person's reach), and the queue's refresh, every few seconds on every screen, does little else
    (docs/architecture.md#the-queue). Built once; each query adds its condition to a copy."""
    return select(SessionRecord).options(joinedload(SessionRecord.user).joinedload(User.teams))


def _touch_in_own_transaction(record_id: int, now: datetime) -> None:
    # A short write of its own, so a page view stays a read-only transaction on SQLite.
    with write_intent(), Session(db.engine) as own:
        own.execute(update(SessionRecord).where(SessionRecord.id == record_id).values(last_active_at=now))
        own.commit()


def _revoke_in_own_transaction(record_id: int, user_id: int, reason: str) -> None:
    with write_intent(), Session(db.engine) as own:
        query = update(SessionRecord).where(SessionRecord.id == record_id, SessionRecord.revoked_at.is_(None))
        ended = execute_dml(query.values(revoked_at=utcnow(), revoked_reason=reason), own).rowcount
        if ended:
            audit.record(
                "session_ended",
                audit.Actor.user(user_id),
                object_type="session",
                object_id=record_id,
                changes={"reason": reason},
                session=own,
            )
        own.commit()


def extend(live: LiveSession) -> None:
    """ "Stay signed in": the person is here, whatever the idle clock says."""
    live.record.last_active_at = utcnow()


def end_session(live: LiveSession, reason: str = "signed_out") -> None:
    live.record.revoked_at = utcnow()
    live.record.revoked_reason = reason
    audit.record(
        "signed_out",
        audit.Actor.user(live.user.id),
        object_type="session",
        object_id=live.record.id,
        changes={"reason": reason},
    )


def end_all_sessions(user: User, reason: str, *, actor: audit.Actor, keep: SessionRecord | None = None) -> int:
    now = utcnow()
    query = update(SessionRecord).where(SessionRecord.user_id == user.id, SessionRecord.revoked_at.is_(None))
    if keep is not None:
        query = query.where(SessionRecord.id != keep.id)
    ended = execute_dml(query.values(revoked_at=now, revoked_reason=reason)).rowcount
    audit.record(
        "sessions_ended", actor, object_type="user", object_id=user.id, changes={"reason": reason, "count": ended}
    )
    return ended


def active_sessions(user: User) -> list[SessionRecord]:
    return list(
        db.session.scalars(
            select(SessionRecord)
            .where(SessionRecord.user_id == user.id, SessionRecord.revoked_at.is_(None))
            .order_by(SessionRecord.last_active_at.desc())
        )
    )
