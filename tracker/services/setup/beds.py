"""A ward's beds (docs/architecture.md#beds): rows of their own, so a relabel keeps the bed, and whatever belongs
to it, under its new label. A bed is never deleted: one taken out of use is retired. Each change is audited."""

from __future__ import annotations

from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Bed, BedOccupancy
from tracker.problems import Problem
from tracker.services.records import audit

MAX_LABEL = 60  # the call's bed (concern.bed) copies the label


class BedProblem(Problem):
    """A list of beds that cannot be saved; the message says why in plain English."""


def clean_labels(labels: list[str]) -> list[str]:
    """The labels stripped, blanks dropped. Refuses one too long or one given twice (the family's form could not
    tell two beds of one label apart)."""
    cleaned: list[str] = []
    for raw in labels:
        label = raw.strip()
        if not label:
            continue
        if len(label) > MAX_LABEL:
            raise BedProblem(f"A bed's label must be at most {MAX_LABEL} characters: {label[:20]!r}…")
        if label in cleaned:
            raise BedProblem(f"The bed {label!r} is listed twice; each bed needs its own label")
        cleaned.append(label)
    return cleaned


def beds_in_use(ward_id: int) -> list[Bed]:
    """The ward's beds that are not retired, in the ward's order."""
    return list(
        db.session.scalars(
            select(Bed).where(Bed.ward_id == ward_id, Bed.retired_at.is_(None)).order_by(Bed.position, Bed.id)
        )
    )


def labels_in_use(ward_id: int) -> list[str]:
    return [bed.label for bed in beds_in_use(ward_id)]


def set_beds(actor: audit.Actor, ward_id: int, labels: list[str]) -> list[Bed]:
    """Make the ward's beds in use those `labels`, in that order, and return them. A bed whose label is still
    listed keeps its row. The beds no longer listed take the new labels by position, in order (so "Bay 2" listed
    as "Bay 2A" stays the same bed); any left over are retired, and any new labels left over become new beds."""
    wanted = clean_labels(labels)
    current = beds_in_use(ward_id)
    kept = {bed.label: bed for bed in current if bed.label in wanted}
    spare = [bed for bed in current if bed.label not in wanted]
    result = []
    for position, label in enumerate(wanted):
        bed = kept.get(label) or (spare.pop(0) if spare else None)
        if bed is None:
            bed = Bed(ward_id=ward_id, label=label, position=position)
            db.session.add(bed)
            db.session.flush()
            _record("bed_added", actor, bed, {"ward_id": ward_id, "label": label, "position": position})
        elif bed.label != label or bed.position != position:
            changes = {"ward_id": ward_id, "label": [bed.label, label], "position": [bed.position, position]}
            action = "bed_relabelled" if bed.label != label else "bed_moved"
            bed.label, bed.position = label, position
            _record(action, actor, bed, changes)
        result.append(bed)
    _refuse_occupied(spare)
    now = utcnow()
    for bed in spare:
        bed.retired_at = now
        _record("bed_retired", actor, bed, {"ward_id": ward_id, "label": bed.label})
    db.session.flush()
    return result


def _refuse_occupied(leaving: list[Bed]) -> None:
    """A bed with a patient in it cannot be retired: the ward view would lose the patient, and their daily check."""
    occupied = db.session.scalars(
        select(Bed.label)
        .join(BedOccupancy, BedOccupancy.bed_id == Bed.id)
        .where(Bed.id.in_([bed.id for bed in leaving]), BedOccupancy.occupied_until.is_(None))
        .order_by(Bed.position)
    ).all()
    if occupied:
        who = "has a patient" if len(occupied) == 1 else "have patients"
        raise BedProblem(
            f"{', '.join(occupied)} still {who}: discharge them on the ward's daily check page "
            "before taking the bed out of use"
        )


def _record(action: str, actor: audit.Actor, bed: Bed, changes: dict) -> None:
    audit.record(action, actor, object_type="bed", object_id=bed.id, changes=changes)
