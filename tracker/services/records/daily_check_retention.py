"""Retention of the daily check (docs/architecture.md#retention): its answers hold a name given at the bedside and
free text, and an occupancy holds the patient's name, so both are destroyed on a rule of their own.

- An answer linked to a call (a "worse" answer that raised it) follows that call: its purger is in
  `retention.PURGERS`, so it goes when the call goes, and a legal hold on the call keeps it.
- An unlinked answer follows the concerns' age precedence with what it has: no date of birth and no age group,
  so the ward's population decides. On an adult ward, `retention_adult_years` after the answer's local day; on a
  paediatric ward, what retention.py does for a child's call without a birth date: the longest period the trust
  keeps anything.
- An occupancy's name goes once the occupancy has ended, its own date (the same rule, from the day it ended) has
  come, and no answer of it still keeps its personal data (a linked answer under a call kept longer keeps it too).

Purging blanks the name and free text and sets `purged_at`; the coded values (bed, day, feeling, compared, worse,
who answered, the times) stay, so the dashboard's figures do not change. Each run adds one audit row with counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import and_, exists, func, select, update

from tracker.clock import utcnow, years_after
from tracker.db import execute_dml
from tracker.extensions import db
from tracker.models import Bed, BedOccupancy, DailyCheckAnswer, Population, Ward
from tracker.services.records import audit
from tracker.services.setup.settings import TrustSettings, current_settings

# Tables with daily-check personal data and what purges them (tests/services/test_retention.py's guard).
TABLES = ("daily_check_answer", "bed_occupancy")


@dataclass(frozen=True)
class CheckDue:
    date: date
    rule: str  # adult, child_no_birth_date


def check_due(day: date, settings: TrustSettings, paediatric: bool) -> CheckDue:
    """When a daily-check record from `day` may be destroyed: the ward decides (nothing else says who is a child)."""
    if not paediatric:
        return CheckDue(years_after(day, settings.retention_adult_years), "adult")
    longest = max(
        settings.retention_adult_years,
        settings.retention_child_until_age,
        settings.retention_complaint_years,
        settings.retention_serious_incident_years,
    )
    return CheckDue(years_after(day, longest), "child_no_birth_date")


def purge_linked(concern_id: int) -> dict:
    """The answers that raised a call, purged with it (retention.PURGERS)."""
    count = execute_dml(
        update(DailyCheckAnswer)
        .where(DailyCheckAnswer.concern_id == concern_id, DailyCheckAnswer.purged_at.is_(None))
        .values(free_text=None, patient_name_given=None, purged_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return {"daily_check_answers": count}


@dataclass(frozen=True)
class Sweep:
    answers: dict[int, CheckDue]
    occupancies: dict[int, CheckDue]


def due(today: date | None = None) -> Sweep:
    """Unlinked answers and ended occupancies whose date has come. Only records older than the adult period are
    read: no rule is shorter."""
    settings = current_settings()
    today = today or utcnow().date()
    oldest = years_after(today, -settings.retention_adult_years)
    answers = {
        answer_id: when
        for answer_id, day, population in db.session.execute(
            select(DailyCheckAnswer.id, DailyCheckAnswer.local_day, Ward.population)
            .join(Ward, Ward.id == DailyCheckAnswer.ward_id)
            .where(
                DailyCheckAnswer.concern_id.is_(None),
                DailyCheckAnswer.purged_at.is_(None),
                DailyCheckAnswer.local_day <= oldest,
            )
        )
        if (when := check_due(day, settings, population is Population.PAEDIATRIC)).date <= today
    }
    still_kept = exists().where(
        DailyCheckAnswer.occupancy_id == BedOccupancy.id,
        DailyCheckAnswer.purged_at.is_(None),
        (DailyCheckAnswer.concern_id.is_not(None)) | (DailyCheckAnswer.id.not_in(list(answers) or [0])),
    )
    occupancies = {
        occupancy_id: when
        for occupancy_id, ended, population in db.session.execute(
            select(
                BedOccupancy.id, func.coalesce(BedOccupancy.occupied_until, BedOccupancy.occupied_from), Ward.population
            )
            .join(Bed, Bed.id == BedOccupancy.bed_id)
            .join(Ward, Ward.id == Bed.ward_id)
            .where(
                BedOccupancy.purged_at.is_(None),
                BedOccupancy.occupied_until.is_not(None),
                BedOccupancy.occupied_until <= datetime.combine(oldest, time.max, UTC),
                ~still_kept,
            )
        )
        if (when := check_due(ended.astimezone(UTC).date(), settings, population is Population.PAEDIATRIC)).date
        <= today
    }
    return Sweep(answers, occupancies)


def purge(sweep: Sweep, actor: audit.Actor) -> dict:
    """Destroy the names and free text the sweep found, in the caller's transaction, with one audit row."""
    now = utcnow()
    answers = occupancies = 0
    if sweep.answers:
        answers = execute_dml(
            update(DailyCheckAnswer)
            .where(DailyCheckAnswer.id.in_(list(sweep.answers)), DailyCheckAnswer.purged_at.is_(None))
            .values(free_text=None, patient_name_given=None, purged_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    if sweep.occupancies:
        occupancies = execute_dml(
            update(BedOccupancy)
            .where(and_(BedOccupancy.id.in_(list(sweep.occupancies)), BedOccupancy.purged_at.is_(None)))
            .values(patient_name=None, purged_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    removed = {"daily_check_answers": answers, "bed_occupancies": occupancies}
    if answers or occupancies:
        rules = sorted({d.rule for d in (*sweep.answers.values(), *sweep.occupancies.values())})
        audit.record(
            "daily_check_personal_data_destroyed",
            actor,
            object_type="daily_check",
            changes={**removed, "rules": rules},
        )
    return removed
