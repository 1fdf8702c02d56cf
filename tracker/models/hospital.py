"""The trust's own shape: its settings, sites, outreach teams and wards."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import utcnow
from tracker.models.base import Base


def str_enum(enum_cls: type[enum.Enum], length: int = 32) -> Enum:
    """Enums stored as their values in a plain VARCHAR, so adding a value needs no migration."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


class Population(str, enum.Enum):
    ADULT = "adult"
    PAEDIATRIC = "paediatric"


class Settings(Base):
    """The trust's choices: one row (id 1) per deployment."""

    __tablename__ = "settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    # Shown on every family page, word for word (docs/architecture.md#concerns-and-their-clocks).
    emergency_instruction: Mapped[str] = mapped_column(Text)
    # The outreach number shown before a ward (and so a team) is known.
    outreach_phone: Mapped[str] = mapped_column(String(32))
    # Where parking, food, visiting and complaints go (PALS), shown without refusing the form.
    pals_phone: Mapped[str | None] = mapped_column(String(32))
    # An information-governance decision each trust records: may relatives be texted?
    text_relatives_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    # ISO 3166 region codes whose mobile numbers may be texted.
    sms_allowed_regions: Mapped[str] = mapped_column(String(64), default="GB")
    languages_enabled: Mapped[str] = mapped_column(String(128), default="en")
    privacy_contact: Mapped[str | None] = mapped_column(String(200))
    # Staff sessions end after this many minutes without a request the person made (docs/architecture.md#security).
    idle_timeout_minutes: Mapped[int] = mapped_column(Integer, default=30)
    # Managers and admins always use a second factor; this extends it to every staff role.
    mfa_for_all_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    # "In hours" for the reports (default weekdays 08:00-18:00 local time; bank holidays of the
    # chosen region are out of hours).
    in_hours_start: Mapped[time] = mapped_column(Time, default=time(8, 0))
    in_hours_end: Mapped[time] = mapped_column(Time, default=time(18, 0))
    bank_holiday_region: Mapped[str] = mapped_column(String(40), default="england-and-wales")
    # Retention (docs/facts.md#retention): minimums from the Records Management Code of Practice; a trust may
    # keep records longer, never shorter.
    retention_adult_years: Mapped[int] = mapped_column(Integer, default=8)
    retention_child_until_age: Mapped[int] = mapped_column(Integer, default=25)
    retention_complaint_years: Mapped[int] = mapped_column(Integer, default=10)
    retention_serious_incident_years: Mapped[int] = mapped_column(Integer, default=20)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def allowed_regions(self) -> set[str]:
        return {code.strip().upper() for code in self.sms_allowed_regions.split(",") if code.strip()}

    # Named on a call flagged for safeguarding (setup-trust --safeguarding-lead-name/-phone).
    safeguarding_lead_name: Mapped[str | None] = mapped_column(String(120))
    safeguarding_lead_phone: Mapped[str | None] = mapped_column(String(20))
    # How a call linked to another counts in the national figures (services/concerns/linking.py): "own" (as its
    # own call, by its own route: the default, since a second relative's call is a genuine call) or "once".
    linked_calls_counted: Mapped[str] = mapped_column(String(8), default="own", server_default="own")
    # Text-in calls (services/concerns/text_in.py): the team whose queue they go on (None: the first adult team,
    # with an alarm), and whether they page (off by default).
    text_in_team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    text_in_paging: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The address ranges (CIDR, comma-separated) an enrolled display or ward tablet must be on
    # (services/setup/devices.py). Production enrols none until they are set.
    device_address_ranges: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Until when a ward's old "kiosk by default" setting still makes its link open in kiosk mode on every device
    # (services/setup/tablets.py): set by the upgrade that brought enrolled tablets, 30 days on.
    kiosk_default_until: Mapped[datetime | None]
    # The access review (services/people/access_review.py) flags an active account not signed in to for this many
    # days (setup-trust --access-review-unused-days).
    access_review_unused_days: Mapped[int] = mapped_column(Integer, default=90, server_default="90")
    # The improvement charts' run and trend length (services/reports/spc.py): 7 by default, or 6 (the two NHS
    # England's Making Data Count uses).
    spc_run_length: Mapped[int] = mapped_column(Integer, default=7, server_default="7")


class Site(Base):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    wards: Mapped[list[Ward]] = relationship(back_populates="site", order_by="Ward.name")
    teams: Mapped[list[Team]] = relationship(back_populates="site", order_by="Team.name")


class Team(Base):
    """An outreach team (CCOT or PCCOT). Targets and, later, the rota and escalation policy
    belong to the team."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    name: Mapped[str] = mapped_column(String(120))
    population: Mapped[Population] = mapped_column(str_enum(Population), default=Population.ADULT)
    # The number families may phone, shown on every page for the team's wards.
    public_phone: Mapped[str] = mapped_column(String(32))
    # The team's on-call mobile, alerted by SMS until the rota issue replaces it.
    duty_phone: Mapped[str | None] = mapped_column(String(32))
    ack_target_minutes: Mapped[int] = mapped_column(Integer, default=5)
    review_target_minutes: Mapped[int] = mapped_column(Integer, default=30)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    site: Mapped[Site] = relationship(back_populates="teams")
    wards: Mapped[list[Ward]] = relationship(back_populates="team")


class Ward(Base):
    """A ward. Its `code` is printed on posters as a QR code (`/w/<code>`), so it never changes:
    a ward that closes is retired, never deleted or recoded."""

    __tablename__ = "ward"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    population: Mapped[Population] = mapped_column(str_enum(Population), default=Population.ADULT)
    nurse_in_charge_phone: Mapped[str | None] = mapped_column(String(32))
    # The old ward-wide kiosk setting, honoured only until Settings.kiosk_default_until or the ward's first
    # enrolled tablet (services/setup/tablets.py); a ward tablet is an enrolled device now.
    kiosk_default: Mapped[bool] = mapped_column(Boolean, default=False)
    retired_at: Mapped[datetime | None]
    # Where a retired ward's patients went, offered (never silently used) on its old link.
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"))

    site: Mapped[Site] = relationship(back_populates="wards")
    team: Mapped[Team] = relationship(back_populates="wards")
    successor: Mapped[Ward | None] = relationship(remote_side=[id])

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class Bed(Base):
    """A bed or bay of a ward, offered on the family's form. A relabel keeps the row, so what belongs to the bed
    keeps belonging to it; a bed taken out of use is retired, never deleted (docs/architecture.md#beds)."""

    __tablename__ = "bed"
    __table_args__ = (
        # Two beds of a ward in use under one label could not be told apart on the form.
        Index(
            "uq_bed_ward_id_label_in_use",
            "ward_id",
            "label",
            unique=True,
            sqlite_where=text("retired_at IS NULL"),
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), index=True)
    label: Mapped[str] = mapped_column(String(60))  # as long as the call's bed (concern.bed), which copies it
    # The order the ward lists its beds in; a retired bed keeps the place it last had.
    position: Mapped[int] = mapped_column(Integer)
    retired_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<Bed {self.id} {self.label!r} of ward {self.ward_id}{' retired' if self.retired_at else ''}>"


class FamilyRouteStatus(str, enum.Enum):
    LIVE = "live"
    NOT_LIVE = "not_live"


class StaffRouteStatus(str, enum.Enum):
    FULLY_LIVE = "fully_live"
    PARTLY_LIVE = "partly_live"
    NOT_LIVE = "not_live"


class SiteImplementation(Base):
    """A site's Martha's Rule implementation status for one month, as the manager records it for
    the NHS England return (docs/facts.md#nhs-englands-monthly-return): no concern can tell it."""

    __tablename__ = "site_implementation"
    __table_args__ = (UniqueConstraint("site_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    family_route: Mapped[FamilyRouteStatus] = mapped_column(str_enum(FamilyRouteStatus))
    staff_route: Mapped[StaffRouteStatus] = mapped_column(str_enum(StaffRouteStatus))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site] = relationship()


class ReturnRevision(Base):
    """A site's monthly return figures as they stood before a change to how they are counted or to
    the clocks they are read from (taken by the migration that made the change), so the return page
    can say which figures were revised, when, and from what."""

    __tablename__ = "return_revision"
    __table_args__ = (Index("ix_return_revision_site_id_month", "site_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    taken_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(300))
    figures: Mapped[dict] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), default=dict
    )  # measure key -> the value before
