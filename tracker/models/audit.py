"""The audit trail (docs/architecture.md#audit): append-only, hash-chained, free of personal data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base
from tracker.models.concern import JSONType

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One action. Holds who, what, which object (ids) and coded changes, never free text or
    personal data, so purging a concern never touches it. Rows are never updated or deleted
    (PostgreSQL enforces it with a trigger)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_concern_id", "concern_id"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
        # The audit viewer's searches, newest first, page by page (migration 0007).
        Index("ix_audit_event_action_occurred_at", "action", "occurred_at"),
        Index("ix_audit_event_actor_id_occurred_at", "actor_id", "occurred_at"),
    )

    # Assigned from the chain head, not by the database, so the hash can cover it.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime]
    actor_type: Mapped[str] = mapped_column(String(16))  # public, user, worker, system, cli, twilio
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(48))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(Integer)
    concern_id: Mapped[int | None] = mapped_column(Integer)
    # Field names and coded values only.
    changes: Mapped[dict] = mapped_column(JSONType, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChainHead(Base):
    """One row: the last appended event. Appends lock it, so concurrent transactions cannot
    fork the chain."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
