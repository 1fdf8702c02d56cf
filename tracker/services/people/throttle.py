"""Slowing password and code guessing without ever locking a clinician out (OWASP's device-cookie
pattern; ASVS 4.0.3 §2.2.1 asks that no more than 100 failures an hour can be tried per account).

- From a device where the owner has signed in before (a signed known-device cookie, set by the
  web layer), the owner is never slowed by the account or address counts. A known device that
  fails 10 times in an hour loses that pass and is treated as unknown.
- From any other device, each attempt at an account is let through only once the wait set by its
  earlier failures has passed: 5 failures an hour are free, then 1, 2, 4 ... seconds, at most 60.
  An attempt before then is answered "wait N seconds" (Retry-After) without checking the password.
  Fewer than 100 guesses an hour are possible, and the owner on a new device waits a minute at most.
- Failures from one address (a hospital's staff share a few) slow that address the same way,
  30 free an hour, then at most 10 seconds: slowed, never refused.
- Nothing sleeps inside a request: a slowed attempt is answered at once with the wait.

Counts live in the database (shared by every web process). An attempt is counted as a failure
when it is let through and uncounted if it succeeds, so concurrent guesses cannot slip past the
count: the rows are locked, in key order, while an attempt is admitted."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tracker.clock import utcnow
from tracker.db import execute_dml, write_intent
from tracker.extensions import db
from tracker.models import SignInThrottle

WINDOW = timedelta(hours=1)
DEVICE_FAILURE_LIMIT = 10
# Failures and refused attempts at one account in an hour that raise the alarm on the queue.
ATTACK_ALARM_AT = 20


@dataclass(frozen=True)
class Policy:
    prefix: str
    free: int  # failures an hour before any wait
    max_wait_seconds: int

    def wait_after(self, failures: int) -> int:
        if failures < self.free:
            return 0
        return min(self.max_wait_seconds, 2 ** (failures - self.free))


ACCOUNT = Policy("account", free=5, max_wait_seconds=60)
ADDRESS = Policy("address", free=30, max_wait_seconds=10)
CODE = Policy("code", free=5, max_wait_seconds=60)
POLICIES = {policy.prefix: policy for policy in (ACCOUNT, ADDRESS, CODE)}


def account_key(email: str) -> str:
    return f"account:{hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]}"


def address_key(address: str) -> str:
    return f"address:{address[:64]}"


def code_key(user_id: int) -> str:
    return f"code:{user_id}"


def device_key(nonce: str) -> str:
    return f"device:{nonce[:64]}"


def _policy(key: str) -> Policy:
    return POLICIES[key.split(":", 1)[0]]


def _insert_missing(session: Session, keys: list[str], now: datetime) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [{"key": key, "window_started_at": now, "failures": 0, "refused": 0, "last_attempt_at": now} for key in keys]
    session.execute(insert(SignInThrottle).values(rows).on_conflict_do_nothing(index_elements=["key"]))


def _locked(session: Session, keys: list[str], now: datetime) -> list[SignInThrottle]:
    """The rows for these keys, created if new, locked in key order (so two admissions of the same
    keys cannot deadlock), with any window older than an hour started afresh."""
    keys = sorted(set(keys))
    _insert_missing(session, keys, now)
    rows = list(
        session.scalars(
            select(SignInThrottle).where(SignInThrottle.key.in_(keys)).order_by(SignInThrottle.key).with_for_update()
        )
    )
    for row in rows:
        if now - row.window_started_at >= WINDOW:
            row.window_started_at, row.failures, row.refused, row.next_attempt_at = now, 0, 0, None
    return rows


def admit(keys: list[str]) -> int:
    """Let one attempt through for every key, or none: returns 0, or the seconds to wait.

    Runs in its own short transaction and commits, so the password is never hashed while the
    counts (or SQLite's write lock) are held."""
    now = utcnow()
    with write_intent(), Session(db.engine, expire_on_commit=False) as own:
        rows = _locked(own, keys, now)
        waits = [
            math.ceil((row.next_attempt_at - now).total_seconds())
            for row in rows
            if row.next_attempt_at is not None and row.next_attempt_at > now
        ]
        for row in rows:
            row.last_attempt_at = now
            if waits:
                row.refused += 1 if row.next_attempt_at and row.next_attempt_at > now else 0
                continue
            row.failures += 1  # counted as a failure until it succeeds
            wait = _policy(row.key).wait_after(row.failures)
            row.next_attempt_at = now + timedelta(seconds=wait) if wait else None
        own.commit()
    return max(waits, default=0)


def succeeded(keys: list[str]) -> None:
    """The attempt admitted for these keys was right: it was not a failure after all."""
    now = utcnow()
    for row in db.session.scalars(select(SignInThrottle).where(SignInThrottle.key.in_(keys))):
        row.failures = max(0, row.failures - 1)
        wait = _policy(row.key).wait_after(row.failures)
        row.next_attempt_at = now + timedelta(seconds=wait) if wait else None


def device_trusted(nonce: str | None) -> bool:
    """A known device (None: not one) keeps its pass until it fails too often itself."""
    if not nonce:
        return False
    row = db.session.get(SignInThrottle, device_key(nonce))
    return row is None or utcnow() - row.window_started_at >= WINDOW or row.failures < DEVICE_FAILURE_LIMIT


def device_failed(nonce: str) -> None:
    row = _locked(db.session(), [device_key(nonce)], utcnow())[0]
    row.failures += 1
    row.last_attempt_at = utcnow()


def attempts_this_hour(key: str) -> int:
    """Failures and refused attempts in the current window (the alarm's measure)."""
    row = db.session.get(SignInThrottle, key)
    if row is None or utcnow() - row.window_started_at >= WINDOW:
        return 0
    return row.failures + row.refused


def quiet_since(key: str) -> datetime | None:
    """When this key last saw an attempt, or None if it has no count."""
    row = db.session.get(SignInThrottle, key)
    return None if row is None else row.last_attempt_at


def forget_old(now: datetime | None = None) -> int:
    """Delete counts whose last attempt is more than an hour old: they no longer slow anything."""
    cutoff = (now or utcnow()) - WINDOW
    return execute_dml(delete(SignInThrottle).where(SignInThrottle.last_attempt_at < cutoff)).rowcount


def reset(keys: list[str]) -> None:
    """Clear counts (an administrator, after a false alarm)."""
    db.session.execute(delete(SignInThrottle).where(SignInThrottle.key.in_(keys)))
