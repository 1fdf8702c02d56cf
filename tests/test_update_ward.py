"""`flask tracker update-ward CODE` and the beds behind it (services/setup/beds.py): a ward's beds are rows of
their own, relabelled, added and retired, never deleted, so a bed keeps its history under a new label."""

from __future__ import annotations

import pytest

from tests.conftest import FamilyForm
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Bed, Ward
from tracker.services.records import audit
from tracker.services.setup import beds, hospital
from tracker.services.setup.wards import ward_by_code, ward_by_id


def run(app, *args):
    return app.test_cli_runner().invoke(args=["tracker", "update-ward", *args])


def beds_of(read, ward_id) -> list[tuple[int, str, int, bool]]:
    """(id, label, position, retired) of each of the ward's beds, in row order."""
    return [(b.id, b.label, b.position, b.retired_at is not None) for b in read.all(Bed, Bed.ward_id == ward_id)]


def test_a_relabelled_bed_keeps_its_row_and_the_audit_trail_follows_it(app, trust, read):
    [(bay1, *_), (bay2, *_)] = beds_of(read, trust["beds_ward"])
    result = run(app, "w8", "--beds", "Bay 1, Bay 2A")
    assert result.exit_code == 0, result.output
    assert "Updated ward w8: beds." in result.output
    assert beds_of(read, trust["beds_ward"]) == [(bay1, "Bay 1", 0, False), (bay2, "Bay 2A", 1, False)]
    relabel = read.one(AuditEvent, AuditEvent.action == "bed_relabelled")
    assert (relabel.object_type, relabel.object_id) == ("bed", bay2)
    assert relabel.changes["label"] == ["Bay 2", "Bay 2A"] and relabel.actor_type == "cli"


def test_a_bed_still_listed_keeps_its_row_when_another_is_removed_before_it(app, trust, read):
    """Relabelling by position alone would turn Bay 2's history into Bay 3's: a listed label keeps its own row."""
    assert run(app, "w8", "--beds", "Bay 1,Bay 2,Bay 3").exit_code == 0
    [bay1, bay2, bay3] = [bed_id for bed_id, *_ in beds_of(read, trust["beds_ward"])]
    result = run(app, "w8", "--beds", "Bay 3,Bay 1,Side room")
    assert result.exit_code == 0, result.output
    assert beds_of(read, trust["beds_ward"]) == [
        (bay1, "Bay 1", 1, False),
        (bay2, "Side room", 2, False),
        (bay3, "Bay 3", 0, False),
    ]
    assert run(app, "w8", "--beds", "Bay 1").exit_code == 0
    rows = beds_of(read, trust["beds_ward"])
    assert len(rows) == 3 and [label for _, label, _, retired in rows if not retired] == ["Bay 1"]
    actions = [e.action for e in read.all(AuditEvent, AuditEvent.object_type == "bed")]
    assert actions.count("bed_retired") == 2 and "bed_moved" in actions


def test_the_familys_form_offers_the_beds_in_use_in_order_and_refuses_a_retired_one(app, trust, client):
    assert run(app, "w8", "--beds", "Side room,Bay 1").exit_code == 0
    with app.app_context():
        assert ward_by_id(trust["beds_ward"]).beds == ["Side room", "Bay 1"]
    page = client.get("/w/w8").get_data(as_text=True)
    assert page.index("Side room") < page.index("Bay 1") and "Bay 2" not in page
    form = FamilyForm(client, "w8")
    assert form.submit(bed="Bay 2").status_code == 400
    assert form.submit(bed="Side room").status_code == 303


def test_a_label_brought_back_after_retirement_is_a_new_bed(app, trust, read):
    assert run(app, "w8", "--beds", "Bay 1").exit_code == 0
    assert run(app, "w8", "--beds", "Bay 1,Bay 2").exit_code == 0
    rows = beds_of(read, trust["beds_ward"])
    assert [(label, retired) for _, label, _, retired in rows] == [("Bay 1", False), ("Bay 2", True), ("Bay 2", False)]


def test_update_ward_renames_and_sets_then_clears_the_nurse_in_charge(app, trust, read):
    result = run(app, "W7", "--name", "Ward 7 (Surgical)", "--nurse-in-charge-phone", "07400 900300")
    assert result.exit_code == 0, result.output
    ward = read.one(Ward, Ward.code == "w7")
    assert ward.name == "Ward 7 (Surgical)" and ward.nurse_in_charge_phone == "+447400900300"
    assert run(app, "w7", "--no-nurse-in-charge-phone").exit_code == 0
    assert read.one(Ward, Ward.code == "w7").nurse_in_charge_phone is None
    events = read.all(AuditEvent, AuditEvent.object_type == "ward", AuditEvent.object_id == trust["ward"])
    assert [(e.action, e.changes) for e in events if e.action != "ward_added"] == [
        ("ward_renamed", {"from": "Ward 7", "to": "Ward 7 (Surgical)"}),
        ("ward_nurse_in_charge_changed", {"removed": False}),
        ("ward_nurse_in_charge_changed", {"removed": True}),
    ]
    assert "07400" not in repr([e.changes for e in events]) and "+44" not in repr([e.changes for e in events])


def test_update_ward_with_nothing_new_changes_nothing(app, trust, read):
    before = read.count(AuditEvent)
    result = run(app, "w8", "--name", "Ward 8", "--beds", " Bay 1 ,Bay 2,")
    assert result.exit_code == 0 and "Ward w8 unchanged." in result.output
    assert read.count(AuditEvent) == before


def test_the_family_form_sees_a_relabel_at_once_though_it_caches_the_ward(app, trust):
    with app.app_context():
        assert ward_by_code("w8").beds == ["Bay 1", "Bay 2"]
    assert run(app, "w8", "--beds", "Bay 1,Bay 2A").exit_code == 0
    with app.app_context():
        assert ward_by_code("w8").beds == ["Bay 1", "Bay 2A"]


@pytest.mark.parametrize("labels", [["A", "B", "A"], ["A", "x" * 61]])
def test_a_list_of_beds_that_cannot_be_told_apart_or_printed_is_refused_and_nothing_changes(app, trust, read, labels):
    before = beds_of(read, trust["beds_ward"])
    with app.app_context(), write_intent():
        with pytest.raises(beds.BedProblem):
            hospital.update_ward(audit.Actor.cli(), db.session.get_one(Ward, trust["beds_ward"]), beds=labels)
        db.session.rollback()
    assert beds_of(read, trust["beds_ward"]) == before
