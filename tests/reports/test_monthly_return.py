"""The NHS England monthly return (docs/facts.md#nhs-englands-monthly-return) against figures worked out by hand from a fixture
of 35 calls: every route, concern type, outcome and kind of change; calls either side of both
month boundaries at midnight BST; a call closed the next month; open, reopened, withdrawn and
duplicate calls; and a call at another site. Runs on SQLite and, with TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from tests.conftest import build_trust, create_staff
from tests.reports.calls import (
    ACUTE,
    CHANGE,
    CLINICAL,
    COMMUNICATION,
    CRITICAL_CARE,
    DISCHARGE,
    INVESTIGATIONS,
    MEDICATION,
    NO_CHANGE,
    OTHER,
    OTHER_TREATMENT,
    OXYGEN,
    TRANSFER,
    F,
    P,
    S,
    call,
)
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    CancelKind,
    ConcernStatus,
    FamilyRouteStatus,
    Population,
    StaffRouteStatus,
    User,
)
from tracker.services.records import audit
from tracker.services.reports import implementation
from tracker.services.reports import monthly_return as nhs_return
from tracker.services.setup import hospital
from tracker.services.setup.settings import current_settings

CLOSED, NEW, ACKNOWLEDGED, REVIEWED, CANCELLED = (
    ConcernStatus.CLOSED,
    ConcernStatus.NEW,
    ConcernStatus.ACKNOWLEDGED,
    ConcernStatus.REVIEWED,
    ConcernStatus.CANCELLED,
)
AUGUST = date(2025, 8, 1)


def august_calls(ward, other_ward, other_site_ward) -> None:
    """The fixture. Times are UTC; August 2025 is BST (UTC+1). Numbers match the notes below."""
    # 1-11: acute deterioration, each outcome and each kind of change in care.
    call(ward, "2025-08-02 10:00", F, kind=ACUTE, outcome=CRITICAL_CARE)  # 1
    call(ward, "2025-08-03 11:00", F, kind=ACUTE, outcome=CRITICAL_CARE)  # 2
    call(other_ward, "2025-08-04 12:00", P, kind=ACUTE, outcome=TRANSFER)  # 3
    call(ward, "2025-08-05 13:00", S, kind=ACUTE, outcome=TRANSFER)  # 4
    call(ward, "2025-08-06 14:00", F, kind=ACUTE, outcome=CHANGE, changes=[MEDICATION])  # 5
    call(ward, "2025-08-07 15:00", F, kind=ACUTE, outcome=CHANGE, changes=[MEDICATION, OXYGEN])  # 6
    call(other_ward, "2025-08-08 16:00", S, kind=ACUTE, outcome=CHANGE, changes=[OXYGEN])  # 7
    call(ward, "2025-08-09 17:00", P, kind=ACUTE, outcome=CHANGE, changes=[INVESTIGATIONS])  # 8
    call(ward, "2025-08-10 18:00", F, kind=ACUTE, outcome=CHANGE, changes=[OTHER_TREATMENT, MEDICATION])  # 9
    call(ward, "2025-08-11 19:00", F, kind=ACUTE, outcome=NO_CHANGE)  # 10
    call(other_ward, "2025-08-12 20:00", S, kind=ACUTE, outcome=NO_CHANGE)  # 11
    # 12-21: the other concern types, with and without a clinical review.
    call(ward, "2025-08-13 09:00", F, kind=CLINICAL, review=True)  # 12
    call(ward, "2025-08-14 09:00", F, kind=CLINICAL, review=True)  # 13
    call(ward, "2025-08-15 09:00", P, kind=CLINICAL, review=False)  # 14
    call(ward, "2025-08-16 09:00", F, kind=COMMUNICATION, review=True)  # 15
    call(ward, "2025-08-17 09:00", F, kind=COMMUNICATION, review=False)  # 16
    call(ward, "2025-08-18 09:00", S, kind=COMMUNICATION, review=False)  # 17
    call(ward, "2025-08-19 09:00", F, kind=DISCHARGE, review=False)  # 18
    call(ward, "2025-08-20 09:00", P, kind=DISCHARGE, review=True)  # 19
    call(ward, "2025-08-21 09:00", F, kind=OTHER, review=False)  # 20
    call(ward, "2025-08-22 09:00", F, kind=OTHER, review=False)  # 21
    # 22-26: calls without an outcome: open, reopened (its old coding must not count), withdrawn.
    call(ward, "2025-08-23 09:00", F, NEW)  # 22
    call(ward, "2025-08-24 09:00", S, ACKNOWLEDGED)  # 23
    call(ward, "2025-08-25 09:00", F, REVIEWED)  # 24
    call(ward, "2025-08-26 09:00", P, ACKNOWLEDGED, kind=ACUTE, outcome=CRITICAL_CARE)  # 25 reopened
    call(ward, "2025-08-27 09:00", F, CANCELLED, cancel=CancelKind.WITHDRAWN)  # 26
    # 27-30: the edges. 00:30 BST on 1 August is 23:30 UTC on 31 July; 23:30 BST on 31 August is
    # 22:30 UTC; midnight BST starting 1 August is 23:00 UTC on 31 July; and a call raised in August
    # but closed in September is an August call.
    call(ward, "2025-07-31 23:30", F, kind=ACUTE, outcome=CRITICAL_CARE)  # 27
    call(ward, "2025-08-31 22:30", S, kind=COMMUNICATION, review=True)  # 28
    call(ward, "2025-07-31 23:00", P, kind=CLINICAL, review=True)  # 29
    call(ward, "2025-08-31 12:00", F, kind=DISCHARGE, review=True, closed="2025-09-03 10:00")  # 30
    # 31-35: not August's. 00:30 BST on 1 September (23:30 UTC on 31 August); 23:59:59 BST on
    # 31 July (22:59:59 UTC); midnight BST starting 1 September (23:00 UTC on 31 August); a
    # duplicate; and a call at another site.
    call(ward, "2025-08-31 23:30", F, kind=ACUTE, outcome=CRITICAL_CARE)  # 31
    call(ward, "2025-07-31 22:59:59", F, kind=ACUTE, outcome=TRANSFER)  # 32
    call(ward, "2025-08-31 23:00", S, kind=COMMUNICATION)  # 33
    call(ward, "2025-08-15 10:00", F, CANCELLED, cancel=CancelKind.DUPLICATE)  # 34
    call(other_site_ward, "2025-08-15 10:00", F, kind=ACUTE, outcome=CRITICAL_CARE)  # 35
    db.session.commit()


# Worked out by hand from the notes above (not from the code).
EXPECTED_AUGUST = {
    "route_patient": 6,  # 3, 8, 14, 19, 25, 29
    "route_family": 18,  # 1, 2, 5, 6, 9, 10, 12, 13, 15, 16, 18, 20, 21, 22, 24, 26, 27, 30
    "route_staff": 6,  # 4, 7, 11, 17, 23, 28
    "calls_total": 30,  # 1-30
    "clinical_review": 19,  # 1-11, 27 (acute), 12, 13, 29, 15, 28, 19, 30
    "acute_deterioration": 12,  # 1-11, 27 (25 is reopened, so not coded)
    "outcome_critical_care": 3,  # 1, 2, 27
    "outcome_transfer": 2,  # 3, 4
    "outcome_life_saving": 5,
    "outcome_change_in_care": 5,  # 5-9
    "change_medication": 3,  # 5, 6, 9
    "change_oxygen": 2,  # 6, 7
    "change_investigations": 1,  # 8
    "change_other": 1,  # 9
    "outcome_no_change": 2,  # 10, 11
    "not_acute_clinical": 4,  # 12, 13, 14, 29
    "not_acute_communication": 4,  # 15, 16, 17, 28
    "not_acute_discharge": 3,  # 18, 19, 30
    "not_acute_communication_discharge": 7,
    "not_acute_other": 2,  # 20, 21
    "still_open": 4,  # 22, 23, 24, 25
    "withdrawn": 1,  # 26
    "route_unknown": 0,  # no text-in calls this month
}
EXPECTED_PERCENT = {
    "route_patient": "20%",
    "route_family": "60%",
    "route_staff": "20%",
    "clinical_review": "63%",
    "acute_deterioration": "40%",
}


@pytest.fixture
def august(ctx, app):
    built = build_trust()
    actor = audit.Actor.cli()
    other_site = hospital.add_site(actor, code="far", name="Far Hospital")
    other_team = hospital.add_team(
        actor,
        code="far-ccot",
        site=other_site,
        name="Far Team",
        population=Population.ADULT,
        public_phone="020 7946 0555",
        duty_phone="07400 900555",
    )
    far_ward = hospital.add_ward(
        actor, code="far1", name="Far Ward", site=other_site, team=other_team, population=Population.ADULT
    )
    db.session.commit()
    august_calls(built["ward"], built["beds_ward"], far_ward)
    return built


def figures(report) -> dict:
    return {m.key: m.value for section in report.sections for m in section.measures}


def test_the_return_matches_the_figures_worked_out_by_hand(august):
    report = nhs_return.monthly_return(august["site"], AUGUST, current_settings())
    found = figures(report)
    assert {key: found[key] for key in EXPECTED_AUGUST} == EXPECTED_AUGUST
    percents = {m.key: m.percent for section in report.sections for m in section.measures}
    assert {key: percents[key] for key in EXPECTED_PERCENT} == EXPECTED_PERCENT
    assert (report.calls, report.still_open, report.withdrawn) == (30, 4, 1)


def test_each_acute_call_has_one_outcome_and_every_coded_call_one_type(august):
    found = figures(nhs_return.monthly_return(august["site"], AUGUST, current_settings()))
    outcomes = ["outcome_critical_care", "outcome_transfer", "outcome_change_in_care", "outcome_no_change"]
    assert sum(found[key] for key in outcomes) == found["acute_deterioration"]
    types = [
        "acute_deterioration",
        "not_acute_clinical",
        "not_acute_communication",
        "not_acute_discharge",
        "not_acute_other",
    ]
    assert sum(found[key] for key in types) + found["still_open"] + found["withdrawn"] == found["calls_total"]


def test_calls_either_side_of_midnight_bst_fall_in_their_local_month(august):
    settings = current_settings()
    july = figures(nhs_return.monthly_return(august["site"], date(2025, 7, 1), settings))
    september = figures(nhs_return.monthly_return(august["site"], date(2025, 9, 1), settings))
    # 32 (23:59:59 BST on 31 July) is July's; 31 and 33 (from midnight BST on 1 September) are September's.
    assert (july["calls_total"], july["outcome_transfer"]) == (1, 1)
    assert (september["calls_total"], september["outcome_critical_care"], september["not_acute_communication"]) == (
        2,
        1,
        1,
    )


def test_every_definition_says_what_is_counted(august):
    report = nhs_return.monthly_return(august["site"], AUGUST, current_settings())
    for section in report.sections:
        for measure in section.measures:
            assert len(measure.definition) > 40, measure.key
    coded = [m for s in report.sections for m in s.measures if m.key in ("clinical_review", "acute_deterioration")]
    assert all("Closed calls only" in m.definition for m in coded)


def test_implementation_status_is_recorded_per_site_and_month_and_audited(august, app):
    site_id = august["site"].id
    db.session.commit()  # release SQLite's write lock: create_staff writes from its own session
    manager_id, _ = create_staff(app, "manager", site_id=site_id)
    manager = db.session.get(User, manager_id)
    settings = current_settings()
    before = figures(nhs_return.monthly_return(august["site"], AUGUST, settings))
    assert (before["family_route_status"], before["staff_route_status"]) == ("Not recorded", "Not recorded")
    implementation.record_implementation(
        manager, august["site"].id, AUGUST, FamilyRouteStatus.LIVE, StaffRouteStatus.PARTLY_LIVE
    )
    implementation.record_implementation(
        manager, august["site"].id, date(2025, 8, 20), FamilyRouteStatus.LIVE, StaffRouteStatus.FULLY_LIVE
    )  # a correction, any day of the month
    db.session.commit()
    after = figures(nhs_return.monthly_return(august["site"], AUGUST, settings))
    assert (after["family_route_status"], after["staff_route_status"]) == ("Live", "Fully live")
    september = figures(nhs_return.monthly_return(august["site"], date(2025, 9, 1), settings))
    assert september["family_route_status"] == "Not recorded"
    rows = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "implementation_status_recorded").order_by(AuditEvent.id)
    ).all()
    assert [r.changes["staff_route"] for r in rows] == ["partly_live", "fully_live"]
    assert rows[1].changes["previous_staff_route"] == "partly_live" and rows[1].actor_id == manager_id
    assert audit.verify_chain().ok


def test_calls_closed_through_the_triage_actions_are_counted_as_coded(ctx, app):
    """The return reads the fields the real close action writes."""
    from tests.services.test_concerns import raise_one
    from tracker.models import CallerUpdateMethod, ChangeInCare, DeteriorationOutcome, ReviewKind
    from tracker.services.concerns import triage

    built = build_trust()
    team_id = built["team"].id
    db.session.commit()  # release SQLite's write lock: create_staff writes from its own session
    nurse_id, _ = create_staff(app, "outreach", team_ids=[team_id])
    db.session.expire_all()
    nurse = db.session.get(User, nurse_id)
    with time_machine.travel("2025-08-31 22:30:00+00:00", tick=False):  # 23:30 BST on 31 August
        concern = raise_one(built["ward"]).concern
        triage.claim(concern.id, nurse)
        db.session.commit()
        triage.record_review(
            concern.id,
            nurse,
            kind=ReviewKind.SEEN_ON_WARD,
            findings="RR 26",
            news2=None,
            version=db.session.get(type(concern), concern.id).version,
        )
        db.session.commit()
    with time_machine.travel("2025-09-01 01:00:00+00:00", tick=False):
        fresh = db.session.get(type(concern), concern.id)
        triage.close(
            concern.id,
            nurse,
            triage.Coding(
                ACUTE,
                True,
                DeteriorationOutcome.CHANGE_IN_CARE,
                (ChangeInCare.OXYGEN, ChangeInCare.MEDICATION),
                CallerUpdateMethod.PHONE,
                fresh.raised_at,
            ),
            "summary",
            fresh.version,
        )
        db.session.commit()
    found = figures(nhs_return.monthly_return(built["site"], AUGUST, current_settings()))
    assert (
        found["route_family"],
        found["acute_deterioration"],
        found["outcome_change_in_care"],
        found["change_oxygen"],
        found["change_medication"],
        found["clinical_review"],
    ) == (1, 1, 1, 1, 1, 1)
