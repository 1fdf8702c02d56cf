"""Who is in a bed (services/daily_check/occupancy.py): admitted and discharged on the nurse's own ward only, at
most one patient per bed at a time, each change audited, and a bed with a patient in it never retired."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from tests.conftest import create_staff
from tests.test_update_ward import run
from tracker.extensions import db
from tracker.models import AuditEvent, Bed, BedOccupancy, User
from tracker.services.daily_check import occupancy
from tracker.services.daily_check.occupancy import OccupancyProblem


@pytest.fixture
def nurse(app, trust):
    user_id, _ = create_staff(app, "ward_staff", ward_id=trust["beds_ward"])
    return user_id


def bed_of(ward_id: int, label: str) -> Bed:
    return db.session.query(Bed).filter_by(ward_id=ward_id, label=label).one()


def test_a_nurse_admits_and_discharges_on_their_own_ward_and_each_is_audited(ctx, trust, nurse):
    user = db.session.get(User, nurse)
    bed = occupancy.ward_bed(user, bed_of(trust["beds_ward"], "Bay 1").id)
    admitted = occupancy.admit(user, bed, "  Pat   Jones ")
    assert admitted.patient_name == "Pat Jones" and occupancy.open_occupancy(bed.id) is admitted
    occupancy.discharge(user, bed)
    assert admitted.occupied_until is not None and admitted.ended_by_id == nurse
    assert occupancy.open_occupancy(bed.id) is None
    events = db.session.query(AuditEvent).filter_by(object_type="bed_occupancy").order_by(AuditEvent.id).all()
    assert [e.action for e in events] == ["bed_occupied", "bed_vacated"]
    assert "Pat" not in str([e.changes for e in events])  # the name stays out of the audit trail


def test_another_wards_bed_or_a_retired_one_is_not_the_nurses(app, ctx, trust):
    other, _ = create_staff(app, "ward_staff", ward_id=trust["ward"])
    outreach, _ = create_staff(app, "outreach", team_ids=[trust["team"]])
    bed_id = bed_of(trust["beds_ward"], "Bay 1").id
    assert occupancy.ward_bed(db.session.get(User, other), bed_id) is None
    assert occupancy.ward_bed(db.session.get(User, outreach), bed_id) is None
    assert occupancy.ward_bed(db.session.get(User, other), 999_999) is None


def test_a_bed_takes_one_patient_at_a_time(ctx, trust, nurse):
    user = db.session.get(User, nurse)
    bed = bed_of(trust["beds_ward"], "Bay 1")
    occupancy.admit(user, bed, None)
    with pytest.raises(OccupancyProblem, match="Bay 1 is already occupied. Discharge its patient first"):
        occupancy.admit(user, bed, "Sam")
    occupancy.discharge(user, bed)
    with pytest.raises(OccupancyProblem, match="Bay 1 is already empty"):
        occupancy.discharge(user, bed)


def test_the_database_refuses_a_second_open_occupancy_of_a_bed(ctx, trust):
    bed = bed_of(trust["beds_ward"], "Bay 1")
    db.session.add(BedOccupancy(bed_id=bed.id))
    db.session.flush()
    db.session.add(BedOccupancy(bed_id=bed.id))
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_a_name_too_long_is_refused_in_plain_words(ctx, trust, nurse):
    bed = bed_of(trust["beds_ward"], "Bay 1")
    with pytest.raises(OccupancyProblem, match="120 characters or fewer"):
        occupancy.admit(db.session.get(User, nurse), bed, "x" * 121)


def test_a_bed_with_a_patient_in_it_cannot_be_retired(app, trust, nurse, read):
    with app.app_context():
        from tracker.db import write_intent

        with write_intent():
            occupancy.admit(db.session.get(User, nurse), bed_of(trust["beds_ward"], "Bay 2"), None)
            db.session.commit()
    result = run(app, "w8", "--beds", "Bay 1")
    assert result.exit_code != 0
    assert "Bay 2 still has a patient: discharge them on the ward's daily check page" in result.output
    assert read.count(Bed, Bed.ward_id == trust["beds_ward"], Bed.retired_at.is_(None)) == 2
