"""Staff accounts. Sign-in, sessions and MFA arrive with the triage issue."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import utcnow
from tracker.models.base import Base
from tracker.models.hospital import Site, Team, Ward, str_enum


class Role(str, enum.Enum):
    WARD_STAFF = "ward_staff"
    OUTREACH = "outreach"
    MANAGER = "manager"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    mobile: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Set for one-time passwords (seed-demo, create-user): the first sign-in must change it.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team | None] = relationship()
    ward: Mapped[Ward | None] = relationship()
    site: Mapped[Site | None] = relationship()
