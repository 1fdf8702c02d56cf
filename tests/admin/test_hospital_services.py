"""The services behind the Sites, teams and Wards pages and their commands (docs/architecture.md#set-up): a ward's
permanent code, changing a site, a team and a ward's team, the warnings about numbers that cannot get texts, and
what each person may reach."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import build_other_site, build_trust
from tests.services.test_concerns import raise_one
from tracker.extensions import db
from tracker.models import AlertChannel, AuditEvent, Population, Role, SmsOptOut, Team, Tier, User, Ward
from tracker.problems import FieldProblem, Problem
from tracker.services import scope
from tracker.services.paging.policy import StepSpec, save_policy
from tracker.services.records import audit
from tracker.services.setup import hospital, hospital_reads, phone_checks, sites_and_teams, ward_codes
from tracker.services.setup.hospital import SetupProblem

CLI = audit.Actor.cli()


@pytest.fixture
def built(ctx):
    return build_trust()


def other_site():
    """The second site of tests/conftest.py, as (site, team, ward)."""
    ward = build_other_site(duty_phone="07400 900555")
    return ward.site, ward.team, ward


def add_ward(built, code: str) -> Ward:
    return hospital.add_ward(
        CLI, code=code, name="New", site=built["site"], team=built["team"], population=Population.ADULT
    )


# --- a ward's permanent code ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, message",
    [
        ("", "Enter the ward's code"),
        ("ward 9", "lower-case letters, digits or hyphens"),
        ("-9", "lower-case letters, digits or hyphens"),
        ("ward_9", "lower-case letters, digits or hyphens"),
        ("wärd-9", "lower-case letters, digits or hyphens"),
        ("a" * 33, "lower-case letters, digits or hyphens"),
        ("9/../admin", "lower-case letters, digits or hyphens"),
        ("ward-", "cannot end with a hyphen"),
        ("ward--9", "two together"),
        ("admin", "keeps for its own pages"),
        ("null", "keeps for its own pages"),
        ("w7", "is taken"),
        ("w-old", "never reused, even after a ward closes"),  # a closed ward's code
    ],
)
def test_an_unusable_ward_code_is_refused_plainly_and_nothing_is_added(built, code, message):
    wards_before = db.session.scalars(select(Ward.id)).all()
    with pytest.raises(FieldProblem, match=message) as refused:
        add_ward(built, code)
    assert refused.value.field == "code"
    db.session.rollback()
    assert db.session.scalars(select(Ward.id)).all() == wards_before


def test_a_good_code_is_kept_and_upper_case_from_the_command_line_is_read_as_lower_case(built):
    assert ward_codes.new_ward_code(" ngh-7b ") == "ngh-7b"
    assert ward_codes.new_ward_code("NGH-9") == "ngh-9"
    assert add_ward(built, "9b").code == "9b"


def test_no_ward_change_can_reach_a_wards_code(built):
    """update_ward takes no code at all: the link on the posters cannot be changed through it."""
    import inspect

    assert "code" not in inspect.signature(hospital.update_ward).parameters
    ward = built["ward"]
    hospital.update_ward(CLI, ward, name="Ward 7 (Respiratory)", beds=["Bay 1"])
    assert db.session.get(Ward, ward.id).code == "w7"


# --- sites and teams -------------------------------------------------------------------------------------------------


def test_a_site_is_renamed_with_its_code_kept_and_audited(built):
    site = built["site"]
    assert sites_and_teams.rename_site(CLI, site, "  General   Hospital  North ") is True
    assert (site.name, site.code) == ("General Hospital North", "gen")
    assert sites_and_teams.rename_site(CLI, site, "General Hospital North") is False
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "site_renamed")).one()
    assert event.changes == {"from": "General Hospital", "to": "General Hospital North"}
    with pytest.raises(FieldProblem, match="1–120 characters"):
        sites_and_teams.rename_site(CLI, site, "   ")


def test_a_team_is_changed_field_by_field_and_the_audit_holds_no_phone_number(built):
    team = built["team"]
    changed = sites_and_teams.update_team(
        CLI,
        team,
        name="Critical Care Outreach",
        public_phone="020 7946 0999",
        duty_phone="07400 900999",
        ack_target_minutes=10,
        review_target_minutes=45,
    )
    assert changed == ["name", "public_phone", "duty_phone", "ack_target_minutes", "review_target_minutes"]
    assert (team.public_phone, team.duty_phone) == ("+442079460999", "+447400900999")
    assert (team.ack_target_minutes, team.review_target_minutes) == (10, 45)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "team_changed")).one()
    assert event.changes["fields"] == changed and event.changes["has_duty_phone"] is True
    assert "900999" not in str(event.changes) and "0999" not in str(event.changes)
    assert sites_and_teams.update_team(CLI, team, name="Critical Care Outreach") == []
    assert sites_and_teams.update_team(CLI, team, clear_duty_phone=True) == ["duty_phone"]
    assert team.duty_phone is None


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"duty_phone": "020 7946 0102"}, "duty_phone", "must be a mobile number, because it receives text alerts"),
        ({"public_phone": "12"}, "public_phone", "not a valid phone number"),
        ({"ack_target_minutes": 0}, "ack_target_minutes", "1 to 1440"),
        ({"ack_target_minutes": 40, "review_target_minutes": 30}, "review_target_minutes", "from the target"),
        ({"population": Population.PAEDIATRIC}, "population", "fixed once it has wards or calls"),
        ({"name": ""}, "name", "1–120 characters"),
    ],
)
def test_a_bad_team_change_is_refused_at_its_field_and_nothing_is_kept(built, change, field, message):
    team = built["team"]
    before = (team.name, team.duty_phone, team.ack_target_minutes, team.population)
    with pytest.raises(FieldProblem, match=message) as refused:
        sites_and_teams.update_team(CLI, team, **change)
    assert refused.value.field == field
    db.session.rollback()
    team = db.session.get(Team, team.id)
    assert (team.name, team.duty_phone, team.ack_target_minutes, team.population) == before
    assert not db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "team_changed"))


def test_a_team_with_no_wards_or_calls_may_change_its_population(built):
    team = hospital.add_team(
        CLI,
        code="gen-kids",
        site=built["site"],
        name="Children's outreach",
        population=Population.ADULT,
        public_phone="020 7946 0102",
        duty_phone=None,
    )
    assert sites_and_teams.update_team(CLI, team, population=Population.PAEDIATRIC) == ["population"]


# --- a ward's team ---------------------------------------------------------------------------------------------------


def test_a_ward_moves_to_another_team_of_its_site_and_population_only(built):
    ward = built["ward"]
    second = hospital.add_team(
        CLI,
        code="gen-ccot-2",
        site=built["site"],
        name="Second Team",
        population=Population.ADULT,
        public_phone="020 7946 0103",
        duty_phone=None,
    )
    kids = hospital.add_team(
        CLI,
        code="gen-kids",
        site=built["site"],
        name="Children",
        population=Population.PAEDIATRIC,
        public_phone="020 7946 0104",
        duty_phone=None,
    )
    _, far_team, _ = other_site()
    for team, message in ((kids, "adult ward needs a adult outreach team"), (far_team, "the ward's site")):
        with pytest.raises(FieldProblem, match=message):
            hospital.update_ward(CLI, ward, team=team)
    assert hospital.update_ward(CLI, ward, team=second) == ["team"]
    assert ward.team_id == second.id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "ward_team_changed")).one()
    assert event.changes == {"from": built["team"].id, "to": second.id}


# --- numbers that cannot get texts -----------------------------------------------------------------------------------


def test_a_landline_nurse_in_charge_is_saved_with_a_warning_that_says_why_and_what_happens(built):
    ward = built["ward"]
    hospital.update_ward(CLI, ward, nurse_in_charge_phone="020 7946 0300")
    assert ward.nurse_in_charge_phone == "+442079460300"
    [warning] = phone_checks.nurse_in_charge_warnings(ward)
    assert "020 7946 0300 was saved, but it cannot get texts: it is a landline" in warning
    assert "voice calls instead of texts" in warning
    hospital.update_ward(CLI, ward, nurse_in_charge_phone="07400 900300")
    assert phone_checks.nurse_in_charge_warnings(ward) == []


def test_a_mobile_abroad_or_one_that_replied_stop_gets_its_own_reason(built):
    ward = built["ward"]
    hospital.update_ward(CLI, ward, nurse_in_charge_phone="+33 6 12 34 56 78")
    [abroad] = phone_checks.nurse_in_charge_warnings(ward)
    assert "outside the countries the trust texts (GB)" in abroad
    db.session.add(SmsOptOut(number="+447400900300", opted_out=True, keyword="STOP"))
    hospital.update_ward(CLI, ward, nurse_in_charge_phone="07400 900300")
    [stopped] = phone_checks.nurse_in_charge_warnings(ward)
    assert "replied STOP" in stopped and "texts START" in stopped


def test_a_duty_phone_that_cannot_get_texts_or_none_at_all_is_warned_about(built):
    team = built["team"]
    assert phone_checks.duty_phone_warnings(team) == []
    db.session.add(SmsOptOut(number=team.duty_phone, opted_out=True, keyword="STOP"))
    [stopped] = phone_checks.duty_phone_warnings(team)
    assert "cannot get texts: it replied STOP" in stopped and "may not reach anyone" in stopped
    sites_and_teams.update_team(CLI, team, clear_duty_phone=True)
    [nobody] = phone_checks.duty_phone_warnings(team)
    assert "no duty phone and no escalation policy, so new calls cannot alert anyone" in nobody
    save_policy(
        CLI,
        team,
        steps=[StepSpec((Tier.PRIMARY,), AlertChannel.SMS, 5)],
        repeat_times=1,
        fallback_name="Site manager",
        fallback_number="020 7946 0999",
        fallback_channel=AlertChannel.VOICE,
    )
    assert phone_checks.duty_phone_warnings(team) == []


# --- reach -----------------------------------------------------------------------------------------------------------


def person(role: Role, site_id: int | None = None) -> User:
    return User(email=f"{role.value}@test.invalid", display_name="X", role=role, password_hash="x", site_id=site_id)


def test_a_manager_reaches_only_their_own_sites_set_up_and_an_admin_every_site(built):
    _, far_team, far_ward = other_site()
    manager, admin = person(Role.MANAGER, built["site"].id), person(Role.ADMIN)
    assert [row.code for row in hospital_reads.sites_in_reach(manager)] == ["gen"]
    assert [row.code for row in hospital_reads.sites_in_reach(admin)] == ["gen", "other"]
    assert hospital_reads.team_in_reach(manager, "other-ccot") is None
    assert hospital_reads.team_in_reach(admin, "other-ccot") is far_team
    assert hospital_reads.ward_in_reach(manager, "ow1") is None
    assert hospital_reads.ward_in_reach(admin, "ow1") is far_ward
    assert [site.code for site, _ in hospital_reads.wards_by_site(manager)] == ["gen"]
    for role in (Role.WARD_STAFF, Role.OUTREACH):
        nobody = person(role, built["site"].id)
        assert hospital_reads.sites_in_reach(nobody) == []
        assert hospital_reads.ward_in_reach(nobody, "w7") is None
    assert not db.session.scalar(select(Ward.id).where(scope.wards_to_set_up(person(Role.MANAGER))))


def test_the_open_calls_of_a_ward_are_listed_oldest_first(built):
    first = raise_one(built["ward"], submission="a" * 24).concern
    second = raise_one(built["ward"], submission="b" * 24, patient_name="Robin Hartley").concern
    assert hospital_reads.open_call_references(built["ward"].id) == [first.reference, second.reference]
    assert hospital_reads.open_call_references(built["beds_ward"].id) == []


def test_a_retired_ward_cannot_be_retired_again_or_succeeded_by_a_closed_ward(built):
    with pytest.raises(SetupProblem, match="already retired"):
        hospital.retire_ward(CLI, built["retired"])
    with pytest.raises(Problem, match="still open"):
        hospital.retire_ward(CLI, built["beds_ward"], built["retired"])
