"""A site's dashboard figures for one local day, added up once (docs/architecture.md#daily-rollups).

The database keeps them honest: a trigger on `concern` adds one to `generation` of the (site, local day) of
every call inserted, changed or deleted there (the day before and after a change), for days older than the
last few, which are always counted live. A row's figures are used only while `built_generation` equals
`generation` and `version` is the builder's; otherwise the day is counted from the calls and built again."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base, UTCDateTime


class ReportDay(Base):
    __tablename__ = "report_day"

    site_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # no foreign key: the trigger writes it
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    built_generation: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int | None] = mapped_column(Integer)
    built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counts: Mapped[str | None] = mapped_column(Text)  # JSON: coding groups, hours, wards, waiting calls
    durations: Mapped[str | None] = mapped_column(Text)  # JSON: each team's sorted clock durations

    def __repr__(self) -> str:
        fresh = self.built_generation == self.generation
        return f"<ReportDay site={self.site_id} {self.local_day} generation={self.generation} fresh={fresh}>"
