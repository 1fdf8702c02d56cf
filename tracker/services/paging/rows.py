"""Paging's writes to a call's row (docs/architecture.md#paging): plain UPDATEs of the concern table, with no ORM
object loaded, each stamped with the time of the change. The escalation and the review reminders share them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Concern

CONCERNS = Concern.__table__


def set_columns(concern_id: int, **values: Any) -> None:
    values.setdefault("updated_at", utcnow())
    db.session.execute(update(CONCERNS).where(CONCERNS.c.id == concern_id).values(**values))
