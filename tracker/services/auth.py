"""Signing staff in and keeping their sessions honest (design §7).

Sessions live in the database: the browser holds a random token, the table holds its SHA-256,
and every request checks the idle timeout (a trust setting, default 30 minutes), the absolute
timeout (12 hours) and revocation, so sign-out, "sign out everywhere" and disabling an account
really end sessions. Sign-in is throttled per account and per address before any hashing, and
never locks anyone out: past the limit it asks them to wait."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tracker.clock import utcnow
from tracker.db import write_intent, write_intent_active
from tracker.extensions import db
from tracker.models import MFA_ROLES, SavedForm, SessionRecord, User
from tracker.services import abuse, alarms, audit
from tracker.services.passwords import hash_password, verify_password
from tracker.services.settings import current_settings

ABSOLUTE_TIMEOUT = timedelta(hours=12)
IDLE_WARNING = timedelta(minutes=2)
FRESH_SIGN_IN = timedelta(minutes=5)
SAVED_FORM_KEPT = timedelta(hours=1)
# A session's last activity is written at most this often, so most requests only read.
ACTIVITY_WRITE_INTERVAL = timedelta(seconds=30)
ACCOUNT_LIMIT = "10 per 10 minutes"
ADDRESS_LIMIT = "60 per 10 minutes"  # generous: a hospital's staff share a few addresses
TOTP_ISSUER = "Martha's Rule Tracker"

# A hash to check against when the account does not exist, so the answer takes as long.
_DUMMY_HASH: dict[str, str] = {}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _dummy_hash() -> str:
    key = f"{current_app.config['ARGON2_TIME_COST']}:{current_app.config['ARGON2_MEMORY_KIB']}"
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH[key]


def needs_mfa(user: User) -> bool:
    return user.role in MFA_ROLES or current_settings().mfa_for_all_staff


class Throttled(Exception):
    """Too many sign-in attempts for this account or address: wait, then try again."""


@dataclass(frozen=True)
class PasswordCheck:
    user: User | None

    @property
    def ok(self) -> bool:
        return self.user is not None


def check_password(email: str, password: str, address: str | None) -> PasswordCheck:
    """The first step of signing in. Raises Throttled before any hashing when over a limit."""
    email = (email or "").strip().lower()[:254]
    counts = [abuse.hit(ACCOUNT_LIMIT, "sign-in-account", email or "-")]
    if address:
        counts.append(abuse.hit(ADDRESS_LIMIT, "sign-in-address", address))
    if any(c.storage_fallback for c in counts):
        alarms.raise_alarm("rate_limit_storage_down")
    if any(not c.within_limit for c in counts):
        audit.record("sign_in_throttled", audit.Actor.public(), changes={"account_known": None})
        raise Throttled()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None or not user.active:
        verify_password(_dummy_hash(), password or "")
        audit.record("sign_in_failed", audit.Actor.public(), changes={"reason": "unknown_or_inactive"})
        return PasswordCheck(None)
    if not verify_password(user.password_hash, password or ""):
        audit.record("sign_in_failed", audit.Actor.user(user.id), object_type="user", object_id=user.id,
                     changes={"reason": "password"})
        return PasswordCheck(None)
    return PasswordCheck(user)


def check_totp(user: User, code: str) -> bool:
    """A six-digit code from the user's authenticator, usable once (ASVS 6.5.1)."""
    code = re.sub(r"\s", "", code or "")
    if not user.totp_secret or not re.fullmatch(r"\d{6}", code):
        return _totp_failed(user)
    totp = pyotp.TOTP(user.totp_secret)
    now = utcnow()
    for offset in (0, -1, 1):  # one step either side for clock drift
        moment = now + timedelta(seconds=30 * offset)
        step = totp.timecode(moment)
        if secrets.compare_digest(totp.at(moment), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return _totp_failed(user, "replayed")
            user.totp_last_step = step
            return True
    return _totp_failed(user)


def _totp_failed(user: User, reason: str = "code") -> bool:
    audit.record("sign_in_failed", audit.Actor.user(user.id), object_type="user", object_id=user.id,
                 changes={"reason": f"totp_{reason}"})
    return False


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def enrol_totp(user: User, secret: str, code: str) -> bool:
    """Save a new second factor once the person proves their authenticator has it."""
    candidate = pyotp.TOTP(secret)
    if not re.fullmatch(r"\d{6}", re.sub(r"\s", "", code or "")) or not candidate.verify(code.strip(), valid_window=1):
        return False
    user.totp_secret = secret
    user.totp_last_step = candidate.timecode(utcnow())
    audit.record("mfa_enrolled", audit.Actor.user(user.id), object_type="user", object_id=user.id)
    return True


def start_session(user: User, *, user_agent: str | None, address: str | None) -> tuple[str, SessionRecord]:
    """Record a new signed-in session; returns its token (for the cookie, never stored) and row."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    record = SessionRecord(token_hash=token_hash(token), user_id=user.id, created_at=now, last_active_at=now,
                           authenticated_at=now, user_agent=(user_agent or "")[:200], address=address)
    db.session.add(record)
    user.last_sign_in_at = now
    db.session.flush()
    audit.record("signed_in", audit.Actor.user(user.id), object_type="session", object_id=record.id,
                 changes={"mfa": bool(user.totp_secret) and needs_mfa(user)})
    return token, record


@dataclass
class LiveSession:
    record: SessionRecord
    user: User

    @property
    def idle_expires_at(self):
        return self.record.last_active_at + timedelta(minutes=current_settings().idle_timeout_minutes)

    @property
    def fresh(self) -> bool:
        return utcnow() - self.record.authenticated_at <= FRESH_SIGN_IN


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
    record = db.session.scalar(select(SessionRecord).where(SessionRecord.token_hash == token_hash(token)))
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
            audit.record("session_ended", audit.Actor.user(record.user_id), object_type="session",
                         object_id=record.id, changes={"reason": reason})
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


def _touch_in_own_transaction(record_id: int, now) -> None:
    # A short write of its own, so a page view stays a read-only transaction on SQLite.
    with write_intent(), Session(db.engine) as own:
        own.execute(update(SessionRecord).where(SessionRecord.id == record_id).values(last_active_at=now))
        own.commit()


def _revoke_in_own_transaction(record_id: int, user_id: int, reason: str) -> None:
    with write_intent(), Session(db.engine) as own:
        ended = own.execute(update(SessionRecord)
                            .where(SessionRecord.id == record_id, SessionRecord.revoked_at.is_(None))
                            .values(revoked_at=utcnow(), revoked_reason=reason)).rowcount
        if ended:
            audit.record("session_ended", audit.Actor.user(user_id), object_type="session", object_id=record_id,
                         changes={"reason": reason}, session=own)
        own.commit()


def extend(live: LiveSession) -> None:
    """"Stay signed in": the person is here, whatever the idle clock says."""
    live.record.last_active_at = utcnow()


def end_session(live: LiveSession, reason: str = "signed_out") -> None:
    live.record.revoked_at = utcnow()
    live.record.revoked_reason = reason
    audit.record("signed_out", audit.Actor.user(live.user.id), object_type="session", object_id=live.record.id,
                 changes={"reason": reason})


def end_all_sessions(user: User, reason: str, *, actor: audit.Actor, keep: SessionRecord | None = None) -> int:
    now = utcnow()
    query = update(SessionRecord).where(SessionRecord.user_id == user.id, SessionRecord.revoked_at.is_(None))
    if keep is not None:
        query = query.where(SessionRecord.id != keep.id)
    ended = db.session.execute(query.values(revoked_at=now, revoked_reason=reason)).rowcount
    audit.record("sessions_ended", actor, object_type="user", object_id=user.id, changes={"reason": reason, "count": ended})
    return ended


def active_sessions(user: User) -> list[SessionRecord]:
    return list(db.session.scalars(select(SessionRecord).where(SessionRecord.user_id == user.id,
                                                                SessionRecord.revoked_at.is_(None))
                                   .order_by(SessionRecord.last_active_at.desc())))


# --- passwords ---------------------------------------------------------------------------------

COMMON = {
    "password1234", "passwordpassword", "qwertyuiop12", "qwertyuiop123", "123456789012", "1234567890123",
    "iloveyou1234", "administrator", "letmein12345", "welcome12345", "changeme1234", "password123!",
    "qwerty123456", "abc123456789", "nhspassword1", "trustno1trustno1", "monkey123456", "football1234",
    "sunshine1234", "princess1234", "liverpool123", "manchester12", "chelsea12345", "superman1234",
    "1q2w3e4r5t6y", "zaq12wsxcde3", "qazwsxedcrfv", "asdfghjkl123", "password2024", "password2025",
    "password2026", "summer2026!!", "winter2026!!", "hospital1234", "nurse1234567", "doctor123456",
}
CONTEXT_WORDS = ("martha", "password", "nhs", "outreach", "hospital", "tracker")


class PasswordProblem(ValueError):
    pass


def check_new_password(user: User, password: str) -> None:
    """ASVS 6.2: at least 12 characters, at most 128, no composition rules, not common or built
    from the person's own email or this service's name."""
    if len(password) < 12:
        raise PasswordProblem("Your new password must be at least 12 characters")
    if len(password) > 128:
        raise PasswordProblem("Your new password must be 128 characters or fewer")
    folded = password.casefold()
    if folded in COMMON or len(set(folded)) < 4:
        raise PasswordProblem("That password is too easy to guess. Try three or four random words")
    local = user.email.split("@", 1)[0].casefold()
    if (len(local) >= 4 and local in folded) or any(word in folded and len(folded) - len(word) < 8
                                                    for word in CONTEXT_WORDS):
        raise PasswordProblem("Your password must not be built from your email address or the name of this service")
    if verify_password(user.password_hash, password):
        raise PasswordProblem("Choose a password you have not used here before")


def change_password(user: User, new_password: str, *, keep: SessionRecord | None) -> None:
    check_new_password(user, new_password)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    audit.record("password_changed", audit.Actor.user(user.id), object_type="user", object_id=user.id)
    end_all_sessions(user, "password_changed", actor=audit.Actor.user(user.id), keep=keep)


# --- what someone typed when their session ended -------------------------------------------------


def save_form(user_id: int, path: str, fields: dict) -> str:
    token = secrets.token_urlsafe(24)
    db.session.add(SavedForm(token_hash=token_hash(token), user_id=user_id, path=path[:300], fields=fields))
    return token


def take_saved_form(token: str | None, user_id: int, path: str) -> dict | None:
    """The fields saved for this user and page, once; anyone else gets nothing."""
    if not token:
        return None
    saved = db.session.scalar(select(SavedForm).where(SavedForm.token_hash == token_hash(token)))
    if saved is None or saved.user_id != user_id or saved.path != path or utcnow() - saved.created_at > SAVED_FORM_KEPT:
        return None
    fields = dict(saved.fields)
    db.session.delete(saved)
    return fields


def purge_saved_forms() -> int:
    old = db.session.scalars(select(SavedForm).where(SavedForm.created_at < utcnow() - SAVED_FORM_KEPT)).all()
    for saved in old:
        db.session.delete(saved)
    return len(old)
