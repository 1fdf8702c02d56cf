"""Who is in a bed (docs/architecture.md#beds): a nurse admits a patient to a bed and discharges them, on their own
ward only. A bed has at most one open occupancy; each change is audited. The patient's name is never audited."""

from __future__ import annotations

from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Bed, BedOccupancy, User
from tracker.problems import Problem
from tracker.services.records import audit
from tracker.services.scope import ward_to_check
from tracker.services.text import TextProblem, clean_line

MAX_NAME = 120


class OccupancyProblem(Problem):
    """An admission or discharge that cannot be made; the message says why in plain English."""


def ward_bed(user: User, bed_id: int) -> Bed | None:
    """A bed in use on the ward whose daily check this person records, or None (another ward's, retired, unknown)."""
    ward_id = ward_to_check(user)
    if ward_id is None:
        return None
    return db.session.scalar(select(Bed).where(Bed.id == bed_id, Bed.ward_id == ward_id, Bed.retired_at.is_(None)))


def open_occupancy(bed_id: int) -> BedOccupancy | None:
    return db.session.scalar(
        select(BedOccupancy).where(BedOccupancy.bed_id == bed_id, BedOccupancy.occupied_until.is_(None))
    )


def open_occupancies(bed_ids: list[int]) -> dict[int, BedOccupancy]:
    """The open occupancy of each of these beds that has one, by bed id."""
    rows = db.session.scalars(
        select(BedOccupancy).where(BedOccupancy.bed_id.in_(bed_ids), BedOccupancy.occupied_until.is_(None))
    )
    return {row.bed_id: row for row in rows}


def admit(user: User, bed: Bed, name: str | None) -> BedOccupancy:
    """Start an occupancy of `bed` (one of `ward_bed`'s), with the patient's name if given. Refuses a bed already
    occupied: the patient before must be discharged first, so their answers stay theirs."""
    try:
        patient_name = clean_line(name, MAX_NAME) or None
    except TextProblem as problem:
        raise OccupancyProblem(
            f"The patient's name must be {MAX_NAME} characters or fewer"
            if problem.kind == "too_long"
            else "The patient's name has a character we cannot save. Remove it and try again"
        ) from problem
    db.session.refresh(bed, with_for_update=True)  # two nurses admitting to one bed at once: the second waits
    if open_occupancy(bed.id) is not None:
        raise OccupancyProblem(f"{bed.label} is already occupied. Discharge its patient first")
    occupancy = BedOccupancy(bed_id=bed.id, occupied_from=utcnow(), patient_name=patient_name, started_by_id=user.id)
    db.session.add(occupancy)
    db.session.flush()
    _record("bed_occupied", user, occupancy, {"bed_id": bed.id, "ward_id": bed.ward_id, "named": bool(patient_name)})
    return occupancy


def discharge(user: User, bed: Bed) -> BedOccupancy:
    """End the bed's open occupancy. Refuses a bed nobody occupies (a page left open after another nurse's
    discharge), so nothing is ended twice."""
    occupancy = open_occupancy(bed.id)
    if occupancy is None:
        raise OccupancyProblem(f"{bed.label} is already empty")
    occupancy.occupied_until = utcnow()
    occupancy.ended_by_id = user.id
    _record("bed_vacated", user, occupancy, {"bed_id": bed.id, "ward_id": bed.ward_id})
    db.session.flush()
    return occupancy


def _record(action: str, user: User, occupancy: BedOccupancy, changes: dict) -> None:
    audit.record(
        action, audit.Actor.user(user.id), object_type="bed_occupancy", object_id=occupancy.id, changes=changes
    )
