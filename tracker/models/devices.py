"""Devices a manager has enrolled: the outreach office's queue display, and (later) a ward's kiosk tablet
(docs/architecture.md#enrolled-devices). A device is never a person: it proves only that it is the screen a
manager set up, from an address the trust allows, until its enrolment ends or is revoked."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import utcnow
from tracker.models.base import Base
from tracker.models.hospital import str_enum


class DeviceKind(str, enum.Enum):
    DISPLAY = "display"  # the outreach office's screen: a team's open calls, no names, no free text
    TABLET = "tablet"  # a ward's tablet for families (kiosk)


class EnrolledDevice(Base):
    """One enrolment. Only hashes are stored: of the one-time link until it is used, then of the
    device's own secret, which lives in the device's HttpOnly cookie."""

    __tablename__ = "enrolled_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DeviceKind] = mapped_column(str_enum(DeviceKind, 16))
    label: Mapped[str] = mapped_column(String(80))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))  # a display's team
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"))  # a tablet's ward
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    link_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[datetime | None]
    secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrolled_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    last_used_on: Mapped[date | None] = mapped_column(Date)  # the trust's local day: its first use each day is audited
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
