"""Invitations to a new staff account (docs/architecture.md#set-up): a one-time link, shown once to whoever made it
(the tracker sends no e-mail), with which the account's owner chooses their first password. Only the link's SHA-256
is stored; it works once, for 7 days; a newer link, a password reset or a deactivation cancels it. A link used
twice, late or after it was cancelled is refused with a plain page saying which."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from tracker.clock import utcnow
from tracker.db import execute_dml
from tracker.extensions import db
from tracker.models import StaffInvitation, User
from tracker.problems import Problem
from tracker.services.people.auth import check_new_password
from tracker.services.people.passwords import hash_password
from tracker.services.records import audit

LIFETIME = timedelta(days=7)

REFUSED = {
    "unknown": "This invitation link is not one the tracker knows. Check the whole link was copied, or ask the "
    "person who invited you for a new one.",
    "used": "This invitation has already been used: it works once. Sign in with the password you chose, or ask "
    "the person who invited you for a new invitation.",
    "expired": "This invitation has expired: an invitation lasts 7 days. Ask the person who invited you for a new one.",
    "cancelled": "This invitation was cancelled, or replaced by a newer one. Use the newest link you were given, "
    "or ask the person who invited you for a new one.",
    "inactive": "This account has been closed. Ask the person who invited you.",
}


class InvitationRefused(Problem):
    """An invitation that cannot be used; `why` is a key of REFUSED, the message its words."""

    def __init__(self, why: str):
        super().__init__(REFUSED[why])
        self.why = why


@dataclass(frozen=True)
class NewInvitation:
    """A link's secret (shown once, in the link) and when the link ends."""

    token: str
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(actor: audit.Actor, user: User) -> NewInvitation:
    """A new one-time link for the account, cancelling any earlier one still unused."""
    cancel_pending(user)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = StaffInvitation(
        user_id=user.id,
        token_hash=token_hash(token),
        created_at=now,
        created_by_id=actor.id if actor.type == "user" else None,
        expires_at=now + LIFETIME,
    )
    db.session.add(row)
    db.session.flush()
    audit.record("user_invited", actor, object_type="user", object_id=user.id, changes={"invitation_id": row.id})
    return NewInvitation(token, row.expires_at)


def cancel_pending(user: User) -> int:
    """Cancel the account's unused invitations (a new link, a password given, the account closed)."""
    return execute_dml(
        update(StaffInvitation)
        .where(
            StaffInvitation.user_id == user.id,
            StaffInvitation.used_at.is_(None),
            StaffInvitation.cancelled_at.is_(None),
        )
        .values(cancelled_at=utcnow())
    ).rowcount


def pending(user: User) -> StaffInvitation | None:
    """The account's latest invitation not used or cancelled (it may have expired)."""
    return db.session.scalar(
        select(StaffInvitation)
        .where(
            StaffInvitation.user_id == user.id,
            StaffInvitation.used_at.is_(None),
            StaffInvitation.cancelled_at.is_(None),
        )
        .order_by(StaffInvitation.id.desc())
        .limit(1)
    )


def usable(token: str) -> tuple[StaffInvitation, User]:
    """The invitation this link's secret belongs to and its account, or InvitationRefused saying why not."""
    row = (
        db.session.scalar(select(StaffInvitation).where(StaffInvitation.token_hash == token_hash(token)))
        if token and len(token) <= 100
        else None
    )
    if row is None:
        raise InvitationRefused("unknown")
    user = db.session.get_one(User, row.user_id)
    if row.used_at is not None:
        raise InvitationRefused("used")
    if row.cancelled_at is not None:
        raise InvitationRefused("cancelled")
    if row.expires_at <= utcnow():
        raise InvitationRefused("expired")
    if not user.active:
        raise InvitationRefused("inactive")
    return row, user


def new_password_hash(user: User, password: str) -> str:
    """The hash of the password the invited person chose, once it passes the password rules (PasswordProblem
    otherwise). Hashing reads only: the caller declares its write after this."""
    check_new_password(user, password or "")
    return hash_password(password)


def accept(token: str, password_hash: str) -> User:
    """Use the invitation: the account's password becomes the one chosen. Exactly once: of two uses at the same
    moment, the second is refused as used."""
    row, user = usable(token)
    now = utcnow()
    used = execute_dml(
        update(StaffInvitation)
        .where(
            StaffInvitation.id == row.id,
            StaffInvitation.used_at.is_(None),
            StaffInvitation.cancelled_at.is_(None),
            StaffInvitation.expires_at > now,
        )
        .values(used_at=now)
    ).rowcount
    if not used:
        raise InvitationRefused("used")
    user.password_hash = password_hash
    user.must_change_password = False
    user.password_changed_at = now
    audit.record(
        "invitation_used",
        audit.Actor.user(user.id),
        object_type="user",
        object_id=user.id,
        changes={"invitation_id": row.id},
    )
    return user
