"""What a manager records about a site's improvement charts (docs/architecture.md#improvement-charts): the changes
made to the service, each starting a new segment with its own baseline, and the baselines they fix. Removing
one sets `removed_at` (audited), so what a chart was drawn from can be told afterwards."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import utcnow
from tracker.models.base import Base

DESCRIPTION_LIMIT = 200


class ImprovementChange(Base):
    """A change to the service at a site ("family route launched on Ward 7B"): `month` is the first month of
    figures after it, the first of the new segment. The description is about the service, never a patient."""

    __tablename__ = "improvement_change"
    __table_args__ = (Index("ix_improvement_change_site_id_month", "site_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    description: Mapped[str] = mapped_column(String(DESCRIPTION_LIMIT))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    removed_at: Mapped[datetime | None]


class ImprovementBaseline(Base):
    """A baseline a manager fixed at a site: the months `start_month` to `end_month`, both included (first days).
    It applies to the segment it lies in, on every chart of the site."""

    __tablename__ = "improvement_baseline"
    __table_args__ = (Index("ix_improvement_baseline_site_id", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    start_month: Mapped[date] = mapped_column(Date)
    end_month: Mapped[date] = mapped_column(Date)
    fixed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    fixed_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    removed_at: Mapped[datetime | None]
