"""Signing staff in and keeping their sessions honest (docs/architecture.md, "Sessions").

Sessions live in the database: the browser holds a random token, the table holds its SHA-256,
and every request checks the idle timeout (a trust setting, default 30 minutes), the absolute
timeout (12 hours) and revocation, so sign-out, "sign out everywhere" and disabling an account
really end sessions. Guessing is slowed before any hashing (services/people/throttle.py), never
by locking anyone out: the owner on a device they have signed in from before is never slowed."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from flask import current_app
from sqlalchemy import func, select

from tracker.clock import utcnow
from tracker.db import begin_write
from tracker.extensions import db
from tracker.models import SessionRecord, User
from tracker.problems import Problem
from tracker.services import alarms
from tracker.services.people import sign_on_accounts, throttle
from tracker.services.people.passwords import hash_password, verify_password
from tracker.services.people.sessions import end_all_sessions, needs_mfa
from tracker.services.records import audit

TOTP_ISSUER = "Martha's Rule Tracker"
# Six ASCII digits: `\d` would take any script's digits, which the code comparison cannot.
SIX_DIGITS = re.compile(r"[0-9]{6}", re.ASCII)

# A hash to check against when the account does not exist, so the answer takes as long.
_DUMMY_HASH: dict[str, str] = {}


def _dummy_hash() -> str:
    key = f"{current_app.config['ARGON2_TIME_COST']}:{current_app.config['ARGON2_MEMORY_KIB']}"
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH[key]


class Throttled(Exception):
    """Too many wrong attempts from this device or address: wait `retry_after` seconds, then try
    again. Nothing was checked."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class PasswordCheck:
    user: User | None
    # The password was right, but the account signs in with the trust's account (docs/architecture.md#sign-on).
    sign_on_only: bool = False

    @property
    def ok(self) -> bool:
        return self.user is not None


def _find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email))


def check_password(
    email: str, password: str, address: str | None, known_devices: Mapping[int, str] | None = None
) -> PasswordCheck:
    """The first step of signing in.

    `known_devices` maps user ids to the random ids this browser's known-device cookie holds for
    them. From a known device the owner is never slowed; otherwise raises Throttled, before any
    hashing, while a wait is due for this account or address. Leaves the session ready to write:
    the write begins only after the hash, so SQLite's write lock is never held while hashing (the
    view must be one that defers its write, see tracker/web/security.py)."""
    email = (email or "").strip().lower()[:254]
    user = _find_user(email)
    nonce = (known_devices or {}).get(user.id) if user is not None else None
    keys = _throttle_keys(email, address, nonce)
    _admit(keys, user, "password")
    if user is None or not user.active:
        verify_password(_dummy_hash(), password or "")  # as long as a real check: no enumeration by timing
        begin_write()
        audit.record("sign_in_failed", audit.Actor.public(), changes={"reason": "unknown_or_inactive"})
        return PasswordCheck(None)
    right = verify_password(user.password_hash, password or "")
    begin_write()
    _settle(keys, user, nonce, right)
    if not right:
        _password_failed(user)
        return PasswordCheck(None)
    if not sign_on_accounts.local_password_allowed(user):
        # Linked to a trust account: leaving the trust must end access, so the local password does not.
        audit.record(
            "sign_in_failed",
            audit.Actor.user(user.id),
            object_type="user",
            object_id=user.id,
            changes={"reason": "sign_on_only"},
        )
        return PasswordCheck(None, sign_on_only=True)
    return PasswordCheck(user)


def check_code(user: User, code: str, known_nonce: str | None = None) -> bool:
    """The second step: a code from the authenticator, slowed like passwords (per account, unless
    from the owner's known device). Raises Throttled, before checking, while a wait is due."""
    keys = [] if throttle.device_trusted(known_nonce) else [throttle.code_key(user.id)]
    _admit(keys, user, "code")
    begin_write()
    right = check_totp(user, code)
    _settle(keys, user, known_nonce, right)
    return right


def reauthenticate(
    user: User, password: str, code: str | None, address: str | None, known_nonce: str | None = None
) -> str | None:
    """A signed-in person proves it is still them (the confirm page, the current password on the
    password page): the password, and the code when `code` is given. Slowed as sign-in is.
    Returns None when right, else which was wrong ("password" or "code"). Raises Throttled."""
    keys = _throttle_keys(user.email, address, known_nonce)
    if code is not None and keys:
        keys.append(throttle.code_key(user.id))
    _admit(keys, user, "confirm")
    password_right = verify_password(user.password_hash, password or "")
    begin_write()
    wrong = None if password_right else "password"
    if wrong is None and code is not None and not check_totp(user, code):
        wrong = "code"
    _settle(keys, user, known_nonce, wrong is None)
    if wrong == "password":
        _password_failed(user)
    return wrong


def _throttle_keys(email: str, address: str | None, nonce: str | None) -> list[str]:
    """What an attempt counts against: nothing from the owner's own known device."""
    if throttle.device_trusted(nonce):
        return []
    return [throttle.account_key(email)] + ([throttle.address_key(address)] if address else [])


def _admit(keys: list[str], user: User | None, step: str) -> None:
    wait = throttle.admit(keys) if keys else 0
    if wait:
        begin_write()
        audit.record(
            "sign_in_throttled",
            audit.Actor.public() if user is None else audit.Actor.user(user.id),
            changes={"step": step},
        )
        _alarm_if_attacked(user, keys[0])
        raise Throttled(wait)


def _settle(keys: list[str], user: User, nonce: str | None, right: bool) -> None:
    """Record how an admitted attempt went: a success is no failure; a failure from a known device
    counts against that device's pass; many failures at an account raise the alarm."""
    if right:
        throttle.succeeded(keys)
    elif not keys and nonce is not None:
        throttle.device_failed(nonce)
    else:
        _alarm_if_attacked(user, keys[0])


def _password_failed(user: User) -> None:
    audit.record(
        "sign_in_failed",
        audit.Actor.user(user.id),
        object_type="user",
        object_id=user.id,
        changes={"reason": "password"},
    )


def _alarm_if_attacked(user: User | None, key: str) -> None:
    """Many wrong or refused attempts at a real account: staff (the queue) and monitoring
    (/healthz) are told which account, so its owner can be warned and IT can act."""
    if user is not None and throttle.attempts_this_hour(key) >= throttle.ATTACK_ALARM_AT:
        alarms.raise_alarm("sign_in_attack", subject=f"user:{user.id}")


def check_totp(user: User, code: str) -> bool:
    """A six-digit code from the user's authenticator, usable once (ASVS 6.5.1)."""
    code = re.sub(r"\s", "", code or "")
    if not user.totp_secret or not SIX_DIGITS.fullmatch(code):
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
    audit.record(
        "sign_in_failed",
        audit.Actor.user(user.id),
        object_type="user",
        object_id=user.id,
        changes={"reason": f"totp_{reason}"},
    )
    return False


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def enrol_totp(user: User, secret: str, code: str, *, session: SessionRecord | None = None) -> bool:
    """Save a new second factor once the person proves their authenticator has it. Replacing an
    existing one ends the person's other sessions (the caller has checked a fresh code first)."""
    code = re.sub(r"\s", "", code or "")
    candidate = pyotp.TOTP(secret)
    if not SIX_DIGITS.fullmatch(code) or not candidate.verify(code, valid_window=1):
        return False
    replacing = user.totp_secret is not None
    user.totp_secret = secret
    user.totp_last_step = candidate.timecode(utcnow())
    user.must_enrol_mfa = False
    if session is not None:
        session.mfa_at = utcnow()
    audit.record(
        "mfa_replaced" if replacing else "mfa_enrolled",
        audit.Actor.user(user.id),
        object_type="user",
        object_id=user.id,
    )
    if replacing:
        end_all_sessions(user, "mfa_replaced", actor=audit.Actor.user(user.id), keep=session)
    return True


class AuthenticatorProblem(Problem):
    pass


def remove_totp(user: User, *, session: SessionRecord) -> None:
    """Remove the person's own authenticator (the caller has checked a fresh code first). Not
    for roles that must have one: they replace it instead."""
    if needs_mfa(user):
        raise AuthenticatorProblem(
            "Your role needs an authenticator app. To move to a new phone, set up the new one instead."
        )
    user.totp_secret, user.totp_last_step = None, None
    audit.record("mfa_removed", audit.Actor.user(user.id), object_type="user", object_id=user.id)
    end_all_sessions(user, "mfa_removed", actor=audit.Actor.user(user.id), keep=session)


def reset_mfa(actor: audit.Actor, email: str) -> User:
    """An administrator's reset of a lost authenticator: the old one stops working, every session
    ends, and the next sign-in must set up a new one. Raises LookupError for an unknown address."""
    user = _find_user((email or "").strip().lower())
    if user is None:
        raise LookupError(email)
    reset_authenticator(actor, user)
    return user


def reset_authenticator(actor: audit.Actor, user: User) -> None:
    """Forget the person's authenticator: every session ends and the next sign-in must set up a new one."""
    user.totp_secret, user.totp_last_step, user.must_enrol_mfa = None, None, True
    audit.record("mfa_reset", actor, object_type="user", object_id=user.id)
    end_all_sessions(user, "mfa_reset", actor=actor)


# --- passwords ---------------------------------------------------------------------------------

COMMON = {
    "password1234",
    "passwordpassword",
    "qwertyuiop12",
    "qwertyuiop123",
    "123456789012",
    "1234567890123",
    "iloveyou1234",
    "administrator",
    "letmein12345",
    "welcome12345",
    "changeme1234",
    "password123!",
    "qwerty123456",
    "abc123456789",
    "nhspassword1",
    "trustno1trustno1",
    "monkey123456",
    "football1234",
    "sunshine1234",
    "princess1234",
    "liverpool123",
    "manchester12",
    "chelsea12345",
    "superman1234",
    "1q2w3e4r5t6y",
    "zaq12wsxcde3",
    "qazwsxedcrfv",
    "asdfghjkl123",
    "password2024",
    "password2025",
    "password2026",
    "summer2026!!",
    "winter2026!!",
    "hospital1234",
    "nurse1234567",
    "doctor123456",
}
CONTEXT_WORDS = ("martha", "password", "nhs", "outreach", "hospital", "tracker")


class PasswordProblem(Problem):
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
    if (len(local) >= 4 and local in folded) or any(
        word in folded and len(folded) - len(word) < 8 for word in CONTEXT_WORDS
    ):
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
