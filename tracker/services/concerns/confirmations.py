"""The family's confirmation, kept on the server (models/confirmation.py): created with the
concern, found again by the random id in the browser's cookie (the session's on a ward tablet, for half an hour;
a cookie of its own on the family's own browser, for 24 hours), deleted after 24 hours."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from tracker.clock import utcnow
from tracker.db import execute_dml
from tracker.extensions import db
from tracker.models import Confirmation
from tracker.services.phone import masked_for_caller

KEPT = timedelta(hours=24)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    *, concern_id: int, ward_code: str, reference: str, family_text: str, number: str | None, kiosk: bool
) -> str:
    """Keep what the confirmation page shows; returns the random id for the browser's cookie."""
    token = secrets.token_urlsafe(24)
    db.session.add(
        Confirmation(
            token_hash=_hash(token),
            concern_id=concern_id,
            ward_code=ward_code,
            reference=reference,
            family_text=family_text,
            number_masked=masked_for_caller(number) or None,
            kiosk=kiosk,
            created_at=utcnow(),
        )
    )
    return token


def find(token: str | None, ward_code: str, within: timedelta) -> Confirmation | None:
    """This browser's confirmation for this ward, if it was made within `within`."""
    if not token or len(token) > 100:
        return None
    found = db.session.scalar(select(Confirmation).where(Confirmation.token_hash == _hash(token)))
    if found is None or found.ward_code != ward_code or utcnow() - found.created_at > within:
        return None
    return found


def find_any(tokens: list[str], ward_code: str, within: timedelta = KEPT) -> Confirmation | None:
    """The newest of this browser's confirmations for this ward made within `within` (one query for all of them)."""
    hashes = [_hash(token) for token in tokens if token and len(token) <= 100]
    if not hashes:
        return None
    return db.session.scalar(
        select(Confirmation)
        .where(
            Confirmation.token_hash.in_(hashes),
            Confirmation.ward_code == ward_code,
            Confirmation.created_at >= utcnow() - within,
        )
        .order_by(Confirmation.created_at.desc())
        .limit(1)
    )


def purge_expired(now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - KEPT
    return execute_dml(delete(Confirmation).where(Confirmation.created_at < cutoff)).rowcount
