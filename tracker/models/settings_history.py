"""The settings history (docs/architecture.md#set-up): every version of the trust's settings, kept, so anyone can
later see what families were shown at a given moment. The audit row of each change names its version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import utcnow
from tracker.models.base import Base
from tracker.models.concern import JSONType


class SettingsVersion(Base):
    """The settings as they stood from `recorded_at` until the next version: every setting, and the trust's own
    words in each family language. Never changed after its transaction ends, never deleted."""

    __tablename__ = "settings_version"
    __table_args__ = (Index("ix_settings_version_recorded_at", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who: as the audit says it (user, cli, system; "migration" for the version the upgrade kept).
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The names of the settings this version changed ("words:<language>" for the trust's words in one).
    changed: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Every setting's value (times as HH:MM, moments as ISO text) and "words": {language: {key: text}}.
    snapshot: Mapped[dict] = mapped_column(JSONType, default=dict)
    # A retention period was made shorter: the purge waits 14 days (services/records/retention.py).
    retention_shortened: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
