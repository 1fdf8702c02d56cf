"""What a family's confirmation page shows, kept on the server for 24 hours (the worker deletes it),
so the browser's cookie holds only an opaque id: a shared tablet's cookie jar holds nothing personal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import utcnow
from tracker.models.base import Base


class Confirmation(Base):
    __tablename__ = "confirmation"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the random id in the browser's session cookie.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concern.id", ondelete="CASCADE"), index=True)
    ward_code: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(16))
    # services.notifications.FamilyText: whether a text is on its way, held back, or not possible.
    family_text: Mapped[str] = mapped_column(String(24))
    # Only ever the masked form ("07••• ••• 456"): the page never needs the whole number.
    number_masked: Mapped[str | None] = mapped_column(String(32))
    kiosk: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The optional second page's one use (services/concerns/more_details.py).
    details_added_at: Mapped[datetime | None]
