"""What someone typed into a call's forms when their session had ended, given back to them (and
only them) once they have signed in again (docs/architecture.md, "Sessions").

It exists for that alone, so it keeps as little as it can for as short a time as it can: never a
field that is, or is named like, a password or a code; sealed at rest (the notes may hold a
patient's details); at most 15 minutes, after which the worker deletes it."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from tracker.clock import utcnow
from tracker.db import execute_dml
from tracker.extensions import db
from tracker.models import SavedForm
from tracker.services.people import sealing

KEPT = timedelta(minutes=15)
PURPOSE = "saved-form"
# Never kept, whatever form they come from: CSRF tokens, and anything named like a secret.
NEVER_KEPT = re.compile(r"csrf|pass|pwd|secret|token|(^|_)(otp|code|pin|mfa|totp)(_|$)", re.I)


def keepable(fields: dict[str, str]) -> dict[str, str]:
    """The fields worth giving back: typed text, minus anything secret."""
    return {key: value for key, value in fields.items() if not NEVER_KEPT.search(key)}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def save(user_id: int, path: str, fields: dict[str, str]) -> str:
    """Seal and keep these fields for this person and page; returns the token for their cookie."""
    token = secrets.token_urlsafe(24)
    db.session.add(
        SavedForm(
            token_hash=_hash(token), user_id=user_id, path=path[:300], sealed=sealing.seal(PURPOSE, keepable(fields))
        )
    )
    return token


def take(token: str | None, user_id: int, path: str) -> dict | None:
    """The fields kept for this person and page, once (they are deleted as they are read);
    anyone else, another page, an expired or unreadable record: nothing."""
    if not token:
        return None
    saved = db.session.scalar(select(SavedForm).where(SavedForm.token_hash == _hash(token)))
    if saved is None or saved.user_id != user_id or saved.path != path:
        return None
    db.session.delete(saved)
    if utcnow() - saved.created_at > KEPT:
        return None
    try:
        return sealing.unseal(PURPOSE, saved.sealed)
    except sealing.Unreadable:
        return None


def purge_expired(now: datetime | None = None) -> int:
    """Delete everything older than 15 minutes (the worker calls this)."""
    cutoff = (now or utcnow()) - KEPT
    return execute_dml(delete(SavedForm).where(SavedForm.created_at < cutoff)).rowcount
