"""Records kept about the records: each export a manager made (with the reason they gave, which
is free text and so never in the audit trail), and each check of the audit chain."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import utcnow
from tracker.models.base import Base
from tracker.models.concern import JSONType
from tracker.models.hospital import str_enum
from tracker.models.people import User


class ExportKind(str, enum.Enum):
    CONCERNS_CSV = "concerns_csv"
    CONCERNS_XLSX = "concerns_xlsx"
    AUDIT_CSV = "audit_csv"
    DAILY_CHECK_CSV = "daily_check_csv"


class ExportLog(Base):
    """One export: who, when, what kind, the filters (coded), and, when patient identifiers were
    included, the reason the manager gave. The audit row for it names this row by id."""

    __tablename__ = "export_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[ExportKind] = mapped_column(str_enum(ExportKind))
    filters: Mapped[dict] = mapped_column(JSONType, default=dict)
    identifiers: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()


class AuditCheckpoint(Base):
    """The result of checking the audit chain up to an event. A full check walks from the first
    event (`flask tracker verify-audit`); an incremental one (the audit viewer) continues from
    the last good checkpoint, after making sure that checkpoint's event still has the hash it had."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    full: Mapped[bool] = mapped_column(Boolean)
    from_event_id: Mapped[int] = mapped_column(Integer)  # the first event this check read
    to_event_id: Mapped[int] = mapped_column(Integer)  # the last event found good (0: none)
    to_hash: Mapped[str] = mapped_column(String(64))
    events_checked: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    first_broken_id: Mapped[int | None] = mapped_column(Integer)
    problem: Mapped[str | None] = mapped_column(String(200))
