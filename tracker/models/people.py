"""Staff accounts, their teams, and the server-side registry of signed-in sessions."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import utcnow
from tracker.models.base import Base
from tracker.models.hospital import Site, Team, Ward, str_enum


class Role(str, enum.Enum):
    WARD_STAFF = "ward_staff"
    OUTREACH = "outreach"
    MANAGER = "manager"
    ADMIN = "admin"


# Outreach clinicians may cover more than one team (e.g. both sites at night).
user_team = Table(
    "user_team",
    Base.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    mobile: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Set for one-time passwords (seed-demo, create-user): the first sign-in must change it.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]
    # TOTP (RFC 6238): the base32 seed, and the last time-step accepted, so a code works once.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # Set by `flask tracker reset-mfa`: the next sign-in must set up a new authenticator, whatever
    # the role (managers and admins must have one anyway).
    must_enrol_mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    # An administrator whose local password keeps working once their account is linked to a trust
    # account (docs/architecture.md#sign-on): they can turn on the sign-on outage switch.
    break_glass: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    teams: Mapped[list[Team]] = relationship(secondary=user_team, order_by="Team.name")
    ward: Mapped[Ward | None] = relationship()
    site: Mapped[Site | None] = relationship()

    @property
    def team_ids(self) -> set[int]:
        return {team.id for team in self.teams}


class StaffInvitation(Base):
    """A one-time link with which a new account's owner chooses their first password (docs/architecture.md#set-up).
    Shown once to whoever made it (the tracker sends no e-mail), stored only as its SHA-256, usable once, for 7
    days; a newer link, a password reset or a deactivation cancels it."""

    __tablename__ = "staff_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class SessionRecord(Base):
    """One signed-in session. The browser holds a random token; only its SHA-256 is stored. Sign
    out, the idle and absolute timeouts and "sign out everywhere" set `revoked_at`, after which
    the old cookie signs nobody in (docs/architecture.md#security)."""

    __tablename__ = "session_record"
    __table_args__ = (Index("ix_session_record_user_id_revoked_at", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Only requests a person makes count; the queue's automatic refresh does not.
    last_active_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the password (and code) were last checked: exports need a fresh sign-in.
    authenticated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a code from the authenticator was last checked in this session: changing the
    # authenticator needs one from the last few minutes.
    mfa_at: Mapped[datetime | None]
    # Signed in through the trust's own accounts (sign-on), not with the local password.
    sign_on: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(24))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()


class SavedForm(Base):
    """What someone typed into a call's forms when their session had ended, kept for them (and
    only them) until they sign in again, for at most 15 minutes. The fields are sealed
    (services/people/saved_forms.py): they may hold a patient's details. Passwords and codes are never kept."""

    __tablename__ = "saved_form"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(300))
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SignInThrottle(Base):
    """Wrong passwords and codes counted per account, per address and per known device, so that
    guessing is slowed without locking anyone out (services/people/throttle.py). Keys hold a hash
    of the e-mail typed, an address, or a device's random id: never a password."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_started_at: Mapped[datetime]
    # Attempts let through in this window and not yet known to have succeeded.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # Attempts answered "wait" in this window (a sign of an attack; never checked against a password).
    refused: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime]


class AccessReview(Base):
    """A month's access review, recorded done by a manager (for their site) or an administrator (for a site or
    the whole trust): once per month and scope (services/people/access_review.py). `site_id` is None for the
    whole trust; the two partial indexes keep one row per month for each site and one for the trust."""

    __tablename__ = "access_review"
    __table_args__ = (
        Index(
            "uq_access_review_month_site",
            "month",
            "site_id",
            unique=True,
            sqlite_where=text("site_id IS NOT NULL"),
            postgresql_where=text("site_id IS NOT NULL"),
        ),
        Index(
            "uq_access_review_month_trust",
            "month",
            unique=True,
            sqlite_where=text("site_id IS NULL"),
            postgresql_where=text("site_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # the first day of the month, in the trust's time zone
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    reviewed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What the page showed when it was recorded: how many accounts, and how many were flagged unused.
    accounts: Mapped[int] = mapped_column(Integer)
    unused: Mapped[int] = mapped_column(Integer)

    site: Mapped[Site | None] = relationship()
    reviewed_by: Mapped[User] = relationship()
