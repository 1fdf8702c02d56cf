"""What a view does when someone asks for something beyond their reach (docs/architecture.md#access): the
attempt is audited as `access_denied` and the answer is 404, never 403, which would say that it exists."""

from __future__ import annotations

from typing import TypeVar

from flask import abort
from flask_login import current_user

from tracker.db import begin_write
from tracker.extensions import db
from tracker.services.records import audit

T = TypeVar("T")


def found_or_404(found: T | None, what: str) -> T:
    """`found` when the person's reach found it; otherwise audit the attempt and answer 404."""
    if found is None:
        # A GET has been reading in a deferred transaction: on SQLite, writing in it fails at once ("database
        # is locked") if another writer committed meanwhile, so take the write lock first (tracker/db.py).
        begin_write()
        audit.record("access_denied", audit.Actor.user(current_user.user.id), changes={"what": what})
        db.session.commit()
        abort(404)
    return found
