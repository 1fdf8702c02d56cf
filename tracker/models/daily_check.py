"""The daily check (docs/architecture.md#beds): who occupies a bed and for how long, and each day's answer to
"How are you feeling today?" and "Compared with yesterday?" for the bed and its occupant."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import utcnow
from tracker.models.base import Base
from tracker.models.hospital import Bed, str_enum


class BedOccupancy(Base):
    """A patient in a bed for a period: open while `occupied_until` is empty, at most one open per bed. An answer
    belongs to an occupancy, so a same-day discharge and admission never hands one patient's answer to the next."""

    __tablename__ = "bed_occupancy"
    __table_args__ = (
        # Two open occupancies would leave the ward view unable to say whose answer is whose.
        Index(
            "uq_bed_occupancy_bed_id_open",
            "bed_id",
            unique=True,
            sqlite_where=text("occupied_until IS NULL"),
            postgresql_where=text("occupied_until IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("bed.id"), index=True)
    occupied_from: Mapped[datetime] = mapped_column(default=utcnow)
    occupied_until: Mapped[datetime | None]
    patient_name: Mapped[str | None] = mapped_column(String(120))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    purged_at: Mapped[datetime | None]  # the name destroyed (services/records/daily_check_retention.py)

    bed: Mapped[Bed] = relationship()

    def __repr__(self) -> str:
        return f"<BedOccupancy {self.id} of bed {self.bed_id}{'' if self.occupied_until is None else ' ended'}>"


class Feeling(str, enum.Enum):
    VERY_GOOD = "very_good"
    GOOD = "good"
    OKAY = "okay"
    BAD = "bad"
    VERY_BAD = "very_bad"


class Compared(str, enum.Enum):
    BETTER = "better"
    SAME = "same"
    WORSE = "worse"


class AnsweredBy(str, enum.Enum):
    STAFF = "staff"
    PATIENT = "patient"
    FAMILY = "family"


class CheckChannel(str, enum.Enum):
    STAFF_ASSISTED = "staff_assisted"
    TABLET = "tablet"
    OWN_DEVICE = "own_device"


class DailyCheckAnswer(Base):
    """One answer to the daily check for a bed on the trust's local day. Staff-recorded or staff-confirmed answers
    count as the patient having been asked; `worse` is fixed when it is saved."""

    __tablename__ = "daily_check_answer"
    __table_args__ = (Index("ix_daily_check_answer_ward_id_local_day", "ward_id", "local_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"))
    bed_id: Mapped[int] = mapped_column(ForeignKey("bed.id"), index=True)
    # Empty only for a self-answer naming a bed nobody was admitted to (it then waits for staff to confirm it).
    occupancy_id: Mapped[int | None] = mapped_column(ForeignKey("bed_occupancy.id"), index=True)
    local_day: Mapped[date] = mapped_column(Date)  # the trust's local day it was answered on
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    feeling: Mapped[Feeling] = mapped_column(str_enum(Feeling, 16))
    compared: Mapped[Compared] = mapped_column(str_enum(Compared, 16))
    free_text: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[AnsweredBy] = mapped_column(str_enum(AnsweredBy, 16))
    channel: Mapped[CheckChannel] = mapped_column(str_enum(CheckChannel, 16))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime | None]
    patient_name_given: Mapped[str | None] = mapped_column(String(120))
    worse: Mapped[bool] = mapped_column(Boolean)
    seen_at: Mapped[datetime | None]
    seen_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    acted_on_at: Mapped[datetime | None]
    acted_on_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The call a "worse" answer raised, when the person took the offer (a later step).
    concern_id: Mapped[int | None] = mapped_column(ForeignKey("concern.id"), index=True)
    purged_at: Mapped[datetime | None]  # name and free text destroyed (services/records/daily_check_retention.py)

    bed: Mapped[Bed] = relationship()

    def __repr__(self) -> str:
        return f"<DailyCheckAnswer {self.id} bed {self.bed_id} {self.local_day}{' worse' if self.worse else ''}>"
