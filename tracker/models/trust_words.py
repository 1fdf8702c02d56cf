"""The trust's own words in the families' languages (docs/architecture.md#languages): its emergency
instruction, its teams' names and its privacy contact, each as the trust's translators wrote them. A
language without a version shows the English, marked as English, beside the translated page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import utcnow
from tracker.models.base import Base


class TrustWords(Base):
    __tablename__ = "trust_words"
    __table_args__ = (UniqueConstraint("locale", "key", name="uq_trust_words_locale_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    locale: Mapped[str] = mapped_column(String(16))
    # "emergency_instruction", "privacy_contact" or "team_name:<team id>"
    key: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
