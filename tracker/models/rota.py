"""Who is on call, and how a call climbs when nobody takes it (docs/architecture.md#paging)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import utcnow
from tracker.models.base import Base
from tracker.models.hospital import Team, str_enum
from tracker.models.people import User


class Tier(str, enum.Enum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    LEAD = "lead"


class RotaPattern(Base):
    """A repeating run of shifts for one tier: e.g. 12-hour shifts from 08:00, the people taking
    turns in order. Shift k (counting from the anchor date's first shift) belongs to
    people[k % len(people)]. Start times are the trust's local time, so a 08:00 shift starts at
    08:00 in summer and in winter."""

    __tablename__ = "rota_pattern"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    tier: Mapped[Tier] = mapped_column(str_enum(Tier))
    name: Mapped[str] = mapped_column(String(80))
    start_local: Mapped[str] = mapped_column(String(5))  # "08:00"
    shift_hours: Mapped[int] = mapped_column(Integer)
    anchor_date: Mapped[date] = mapped_column(Date)
    people: Mapped[list[int]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team] = relationship()


class ShiftKind(str, enum.Enum):
    OVERRIDE = "override"  # replaces the pattern's person for this tier and time (a swap, cover)
    EXTRA = "extra"  # on call alongside the pattern's person


class Shift(Base):
    """A one-off shift: an override (cover, a swap) or an extra person on call."""

    __tablename__ = "shift"
    __table_args__ = (Index("ix_shift_team_time", "team_id", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    tier: Mapped[Tier] = mapped_column(str_enum(Tier))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[ShiftKind] = mapped_column(str_enum(ShiftKind), default=ShiftKind.OVERRIDE)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class AlertChannel(str, enum.Enum):
    SMS = "sms"
    VOICE = "voice"


class EscalationPolicy(Base):
    """How a team's calls climb: ordered steps, repeated, then a named fallback."""

    __tablename__ = "escalation_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), unique=True)
    # How many times the steps run before the fallback (0: once).
    repeat_times: Mapped[int] = mapped_column(Integer, default=1)
    # The last resort, e.g. the site manager or hospital at night; it keeps being called every
    # fallback_wait_minutes until someone claims the call.
    fallback_name: Mapped[str] = mapped_column(String(80))
    fallback_number: Mapped[str] = mapped_column(String(20))
    fallback_channel: Mapped[AlertChannel] = mapped_column(str_enum(AlertChannel), default=AlertChannel.VOICE)
    fallback_wait_minutes: Mapped[int] = mapped_column(Integer, default=10)
    # An SMS "ACK" or a keypress pauses paging this long; a claim in the app stops it.
    ack_pause_minutes: Mapped[int] = mapped_column(Integer, default=5)
    # ACKs may hold one call's paging this long in all, from the first: then the next tier is paged.
    ack_ceiling_minutes: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    # An alert the provider has not accepted in this time counts as failed: move on at once.
    alert_accept_seconds: Mapped[int] = mapped_column(Integer, default=120)
    # After the review target: remind the claimant, then this long later tell the next tier.
    review_reminder_minutes: Mapped[int] = mapped_column(Integer, default=10)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    team: Mapped[Team] = relationship()
    steps: Mapped[list[EscalationStep]] = relationship(
        order_by="EscalationStep.position", cascade="all, delete-orphan", back_populates="policy"
    )


class EscalationStep(Base):
    __tablename__ = "escalation_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("escalation_policy.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel: Mapped[AlertChannel] = mapped_column(str_enum(AlertChannel), default=AlertChannel.SMS)
    # Wait this long after this step before the next one.
    wait_minutes: Mapped[int] = mapped_column(Integer, default=5)

    policy: Mapped[EscalationPolicy] = relationship(back_populates="steps")


class SmsOptOut(Base):
    """Numbers that replied STOP (and START again): never texted while opted out."""

    __tablename__ = "sms_opt_out"

    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    keyword: Mapped[str] = mapped_column(String(20))
