"""Retention (docs/facts.md#retention): when a call's personal data is due for destruction,
and the purge that destroys it, keeping a stub and the audit trail whole."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import ForeignKey, select

from tests.conftest import build_trust
from tests.services.test_concerns import raise_one
from tracker.clock import utcnow, years_after
from tracker.extensions import db
from tracker.models import (
    AgeGroup,
    AuditEvent,
    Base,
    Concern,
    ConcernNote,
    ConcernStatus,
    ConcernType,
    DeteriorationOutcome,
    Message,
    MessageEvent,
    NoteKind,
    Population,
    Settings,
)
from tracker.services.concerns.intake import Source
from tracker.services.records import audit, daily_check_retention, retention
from tracker.services.setup import hospital
from tracker.services.setup.settings import current_settings

CODE = SimpleNamespace(
    retention_adult_years=8,
    retention_child_until_age=25,
    retention_complaint_years=10,
    retention_serious_incident_years=20,
)
ENDED = datetime(2016, 5, 1, 14, 0, tzinfo=UTC)


def finished(**fields) -> Concern:
    values = {
        "status": ConcernStatus.CLOSED,
        "closed_at": ENDED,
        "raised_at": ENDED,
        "updated_at": ENDED,
        "patient_dob": None,
        "complaint": False,
        "serious_incident": False,
        "legal_hold": False,
    }
    values.update(fields)
    return Concern(**values)


# --- the rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "paediatric", "expected"),
    [
        ({}, False, (date(2024, 5, 1), "adult")),
        # A child on an adult ward (6 when care ended): the children's rule, not the adult one.
        ({"patient_dob": date(2010, 3, 1)}, False, (date(2035, 3, 1), "child")),
        ({"patient_dob": date(2000, 1, 1)}, False, (date(2025, 1, 1), "child")),  # 16 on an adult ward: the 25th
        ({"patient_dob": date(1998, 9, 1)}, False, (date(2024, 9, 1), "child")),  # 17 on an adult ward: the 26th
        ({"patient_dob": date(1990, 9, 1)}, False, (date(2024, 5, 1), "adult")),
        # No date of birth: the age group recorded at close, then the ward.
        ({"age_group": AgeGroup.UNDER_18}, False, (date(2041, 5, 1), "child_no_birth_date")),
        ({"age_group": AgeGroup.ADULT}, True, (date(2024, 5, 1), "adult")),
        ({"age_group": AgeGroup.UNKNOWN}, False, (date(2024, 5, 1), "adult")),  # unknown, adult ward: adult (IG)
        ({"age_group": AgeGroup.UNKNOWN}, True, (date(2041, 5, 1), "child_no_birth_date")),
        ({"patient_dob": date(2010, 3, 1)}, True, (date(2035, 3, 1), "child")),  # to the 25th birthday
        ({"patient_dob": date(1998, 9, 1)}, True, (date(2024, 9, 1), "child")),  # 17 when care ended: the 26th
        ({"patient_dob": date(1994, 1, 1)}, True, (date(2024, 5, 1), "adult")),  # never less than the adult period
        ({}, True, (date(2041, 5, 1), "child_no_birth_date")),  # no date of birth: the longest period
        ({"complaint": True}, False, (date(2026, 5, 1), "complaint")),
        ({"serious_incident": True}, False, (date(2036, 5, 1), "serious_incident")),
        ({"serious_incident": True, "complaint": True}, False, (date(2036, 5, 1), "serious_incident")),
        ({"patient_dob": date(2016, 1, 1), "serious_incident": True}, True, (date(2041, 1, 1), "child")),
        ({"status": ConcernStatus.CANCELLED, "closed_at": None}, False, (date(2024, 5, 1), "adult")),
        ({"patient_dob": date(2008, 2, 29)}, True, (date(2033, 2, 28), "child")),
    ],
)
def test_the_destruction_date_follows_the_code_of_practice(fields, paediatric, expected):
    due = retention.due(finished(**fields), CODE, paediatric)
    assert (due.date, due.rule) == expected


@pytest.mark.parametrize("status", [ConcernStatus.NEW, ConcernStatus.ACKNOWLEDGED, ConcernStatus.REVIEWED])
def test_a_call_still_in_use_is_never_due(status):
    assert retention.due(finished(status=status, closed_at=None), CODE, False) is None


def test_a_trust_that_keeps_records_longer_gets_its_longer_periods():
    longer = SimpleNamespace(**{**vars(CODE), "retention_adult_years": 10})
    assert retention.due(finished(), longer, False).date == date(2026, 5, 1)


# --- the purge ----------------------------------------------------------------------------------


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # the dates below are worked out from this "today"


@pytest.fixture
def built(ctx):
    with time_machine.travel(NOW, tick=True):
        yield build_trust()


def old_call(ward, n: int, *, when=ENDED, **fields) -> Concern:
    """A call raised and closed at `when`, with a note, texts and an inbound reply."""
    with time_machine.travel(when, tick=False):
        concern = raise_one(
            ward,
            source=Source(device_id=f"old-{n}", address="10.9.9.9"),
            submission=f"old-{n:020d}",
            worry_details=f"Breathing fast and confused, call {n}",
            patient_name="Pat Jones",
            hospital_number="H12345",
            bed="Bay 3",
            caller_name="Sam Jones",
        ).concern
        concern.patient_dob = date(1950, 1, 2)
        concern.callback_extension = "4471"
        concern.ward_response = "They said the doctor would come later."
        concern.news2_total, concern.news2_parameters = 7, {"respiration_rate": 24}
        concern.status, concern.closed_at = ConcernStatus.CLOSED, utcnow()
        concern.concern_type, concern.clinical_review_needed = ConcernType.ACUTE_DETERIORATION, True
        concern.deterioration_outcome = DeteriorationOutcome.CHANGE_IN_CARE
        concern.change_in_care = ["oxygen"]
        for name, value in fields.items():
            setattr(concern, name, value)
        db.session.add(ConcernNote(concern_id=concern.id, kind=NoteKind.FINDINGS, text="Pat looked grey and clammy."))
        message = db.session.scalars(select(Message).where(Message.concern_id == concern.id)).first()
        message.body = "Your reference is MR-... Pat Jones"
        db.session.add(
            MessageEvent(
                message_id=message.id,
                kind="status",
                provider_sid="SM1",
                status="delivered",
                from_number="+447400123456",
                payload={"To": "+447400123456"},
            )
        )
        db.session.add(
            MessageEvent(
                concern_id=concern.id,
                kind="inbound",
                from_number="+447400123456",
                payload={"Body": "Mum is worse, please come", "From": "+447400123456"},
            )
        )
        audit.record(
            "note_added",
            audit.Actor.system(),
            object_type="concern",
            object_id=concern.id,
            concern_id=concern.id,
            changes={"note_id": 1},
        )
        db.session.commit()
        return concern


def chain_rows() -> list[tuple]:
    return db.session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id)).all()


def test_purge_destroys_the_personal_data_and_keeps_a_stub(built):
    concern = old_call(built["ward"], 1)
    concern_id, reference, raised, closed = concern.id, concern.reference, concern.raised_at, concern.closed_at
    before = chain_rows()

    due = list(retention.candidates())
    assert [(c.reference, c.due.rule, c.held) for c in due] == [(reference, "adult", False)]
    removed = retention.purge(due[0], audit.Actor.cli())
    db.session.commit()
    db.session.expire_all()

    stub = db.session.get(Concern, concern_id)
    assert (stub.reference, stub.raised_at, stub.closed_at, stub.status) == (
        reference,
        raised,
        closed,
        ConcernStatus.CLOSED,
    )
    assert stub.concern_type is ConcernType.ACUTE_DETERIORATION and stub.clinical_review_needed
    assert stub.deterioration_outcome is DeteriorationOutcome.CHANGE_IN_CARE and stub.change_in_care == ["oxygen"]
    assert stub.purged_at is not None
    for name in (
        "patient_name",
        "patient_dob",
        "hospital_number",
        "bed",
        "caller_name",
        "caller_relationship",
        "callback_number",
        "callback_extension",
        "worry_details",
        "ward_response",
        "news2_total",
        "news2_parameters",
        "escalation_plan",
        "repeat_key",
    ):
        assert getattr(stub, name) is None, name
    assert db.session.scalars(select(ConcernNote).where(ConcernNote.concern_id == concern_id)).all() == []
    for message in db.session.scalars(select(Message).where(Message.concern_id == concern_id)):
        assert (message.body, message.to_number, message.variables, message.error_reason) == (None, "", {}, None)
    events = db.session.scalars(select(MessageEvent)).all()
    assert events and all(e.payload == {} and e.from_number is None for e in events)
    assert removed == {"notes": 1, "messages": 2, "message_events": 2, "confirmations": 0, "daily_check_answers": 0}

    # The audit trail is untouched, one row added for the destruction, and the chain still verifies.
    after = chain_rows()
    assert after[: len(before)] == before and len(after) == len(before) + 1
    destroyed = db.session.get(AuditEvent, after[-1][0])
    assert destroyed.action == "personal_data_destroyed" and destroyed.concern_id == concern_id
    assert destroyed.changes == {
        "rule": "adult",
        "due": "2024-05-01",
        "notes": 1,
        "messages": 2,
        "message_events": 2,
        "confirmations": 0,
        "daily_check_answers": 0,
    }
    assert audit.verify_chain().ok
    assert list(retention.candidates()) == []


def test_nothing_personal_is_left_anywhere_in_the_database(built):
    """Every text column of every table, read back after the purge: none holds the patient's or
    caller's details."""
    concern = old_call(built["ward"], 1)
    retention.purge(next(retention.candidates()), audit.Actor.cli())
    db.session.commit()
    found = []
    for table in Base.metadata.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            text = repr(dict(row))
            for secret in (
                "Pat Jones",
                "Sam Jones",
                "H12345",
                "clammy",
                "Mum is worse",
                "400123456",
                "1950-01-02",
                "Breathing fast",
                "doctor would come",
            ):
                if secret in text:
                    found.append((table.name, secret))
    assert found == []
    assert db.session.get(Concern, concern.id).reference


def test_a_legal_hold_stops_the_purge(built, read):
    held = old_call(built["ward"], 1, legal_hold=True)
    due = list(retention.candidates())
    assert [(c.reference, c.held) for c in due] == [(held.reference, True)]
    with pytest.raises(retention.LegalHold):
        retention.purge(due[0], audit.Actor.cli())
    db.session.rollback()
    assert db.session.get(Concern, held.id).patient_name == "Pat Jones"


def test_a_hold_set_after_the_list_was_made_still_stops_it(built):
    concern = old_call(built["ward"], 1)
    listed = next(retention.candidates())
    db.session.get(Concern, concern.id).legal_hold = True
    db.session.commit()
    with pytest.raises(retention.LegalHold):
        retention.purge(listed, audit.Actor.cli())


def test_serious_incidents_and_complaints_are_kept_longer(built):
    old_call(built["ward"], 1, serious_incident=True)
    old_call(built["ward"], 2, complaint=True, when=datetime(2017, 6, 1, tzinfo=UTC))  # adult 2025, complaint 2027
    old_call(built["ward"], 3, complaint=True, when=datetime(2014, 1, 5, tzinfo=UTC))  # complaint 2024: due
    assert [c.due.rule for c in retention.candidates()] == ["complaint"]


def test_calls_not_yet_due_and_open_calls_are_left_alone(built):
    old_call(built["ward"], 1, when=datetime(2020, 1, 1, tzinfo=UTC))
    old_call(built["ward"], 2, status=ConcernStatus.ACKNOWLEDGED, closed_at=None)
    assert list(retention.candidates()) == []


def test_a_paediatric_wards_calls_follow_the_childrens_rule(built):
    actor = audit.Actor.cli()
    team = hospital.add_team(
        actor,
        code="gen-pccot",
        site=built["site"],
        name="Children's Outreach",
        population=Population.PAEDIATRIC,
        public_phone="020 7946 0102",
        duty_phone="07400 900102",
    )
    ward = hospital.add_ward(
        actor, code="kids", name="Kingfisher Ward", site=built["site"], team=team, population=Population.PAEDIATRIC
    )
    db.session.commit()
    child = old_call(ward, 1, patient_dob=date(2012, 4, 4))  # 25th birthday in 2037
    unknown = old_call(ward, 2, patient_dob=None)  # no date of birth: 25 years from 2016
    grown = old_call(ward, 3, patient_dob=date(1996, 1, 1))  # 25th birthday in 2021, so the adult 8 years (2024)
    due = {c.reference: c.due for c in retention.candidates()}
    assert set(due) == {grown.reference}
    assert (child.reference, unknown.reference) and due[grown.reference].rule == "adult"


def test_every_table_that_refers_to_a_call_has_a_purger():
    """The one place where personal data tied to a call is destroyed (retention.PURGERS): a new
    table with a concern_id (daily checks, when they come) fails here until it is added."""
    referring = {
        table.name
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if isinstance(fk, ForeignKey) and fk.column.table.name == "concern"
    }
    assert referring - {"concern"} <= set(retention.PURGERS), referring - set(retention.PURGERS)
    assert "concern" in retention.PURGERS


PERSONAL_COLUMNS = {"patient_name", "patient_name_given", "free_text", "patient_dob", "caller_name", "hospital_number"}


def test_every_table_with_a_name_or_free_text_has_a_purger():
    """A table holding a patient's name or free text is purged with a call or by a rule of its own (the daily
    check's answers and occupancies: daily_check_retention.py); a new one fails here until it is."""
    personal = {
        table.name for table in Base.metadata.sorted_tables if {c.name for c in table.columns} & PERSONAL_COLUMNS
    }
    assert {"daily_check_answer", "bed_occupancy"} <= personal  # the guard sees the daily check's tables
    covered = set(retention.PURGERS) | set(daily_check_retention.TABLES)
    assert personal <= covered, personal - covered


# --- the command ----------------------------------------------------------------------------------


def test_purge_dry_run_lists_without_changing_then_purge_destroys(app, built, read):
    due = old_call(built["ward"], 1).reference
    held = old_call(built["ward"], 2, legal_hold=True).reference
    recent = old_call(built["ward"], 3, when=datetime(2022, 6, 1, tzinfo=UTC)).reference
    db.session.commit()  # this test's own session lets go of SQLite's write lock: the command writes
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["tracker", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Due for destruction: 1 call." in dry.output and due in dry.output and "(adult)" in dry.output
    assert "Kept under legal hold although due: 1." in dry.output and held in dry.output
    assert recent not in dry.output
    assert read.count(Concern, Concern.purged_at.is_not(None)) == 0

    real = runner.invoke(args=["tracker", "purge"])
    assert real.exit_code == 0, real.output
    assert "Destroyed the personal data of 1 call; kept 1 under legal hold." in real.output
    assert [c.reference for c in read.all(Concern, Concern.purged_at.is_not(None))] == [due]
    assert read.count(AuditEvent, AuditEvent.action == "personal_data_destroyed") == 1
    verify = runner.invoke(args=["tracker", "verify-audit"])
    assert verify.exit_code == 0 and "Audit chain intact" in verify.output


def setup_trust(runner, *extra):
    return runner.invoke(
        args=[
            "tracker",
            "setup-trust",
            "--name",
            "Test Trust",
            "--emergency-instruction",
            "Press the buzzer.",
            "--outreach-phone",
            "020 7946 0100",
            *extra,
        ]
    )


def test_retention_periods_are_set_with_setup_trust_and_never_below_the_minimums(app, built, read):
    db.session.commit()
    runner = app.test_cli_runner()
    result = setup_trust(runner, "--retention-adult-years", "10", "--retention-serious-incident-years", "25")
    assert result.exit_code == 0, result.output
    settings = read.one(Settings)
    assert (settings.retention_adult_years, settings.retention_serious_incident_years) == (10, 25)
    assert settings.retention_child_until_age == 25 and settings.retention_complaint_years == 10
    event = read.all(AuditEvent, AuditEvent.action == "retention_changed")[-1]
    assert event.changes == {"retention_adult_years": 10, "retention_serious_incident_years": 25}

    assert setup_trust(runner).exit_code == 0  # omitted: unchanged
    assert read.one(Settings).retention_adult_years == 10

    refused = setup_trust(runner, "--retention-adult-years", "5")
    assert refused.exit_code != 0 and "must be between 8 and 100" in refused.output
    assert read.one(Settings).retention_adult_years == 10


def _due_before_the_age_group(concern: Concern, settings, paediatric: bool) -> retention.Due | None:
    """The rule as it stood before the age group (the children's rule only on paediatric wards), kept
    here to show the upgrade destroys nothing earlier than before."""
    ended_at = retention.care_ended(concern)
    if ended_at is None:
        return None
    ended = ended_at.astimezone(UTC).date()
    found = [retention.Due(years_after(ended, settings.retention_adult_years), "adult")]
    if paediatric:
        if concern.patient_dob is not None:
            dob = concern.patient_dob
            age = ended.year - dob.year - ((ended.month, ended.day) < (dob.month, dob.day))
            found.append(
                retention.Due(years_after(dob, settings.retention_child_until_age + (1 if age == 17 else 0)), "child")
            )
        else:
            longest = max(
                settings.retention_adult_years,
                settings.retention_child_until_age,
                settings.retention_complaint_years,
                settings.retention_serious_incident_years,
            )
            found.append(retention.Due(years_after(ended, longest), "child_no_birth_date"))
    return max(reversed(found), key=lambda d: d.date)


def test_after_the_upgrade_purge_dry_run_lists_no_call_it_did_not_list_before(app, built):
    """Every call as the migration leaves it (age group "unknown"), on adult and paediatric wards, with
    and without a date of birth, children and adults: the dry run lists a subset of what the old rule
    listed (here, exactly the old list less the young child on the adult ward, now kept to its 25th birthday)."""
    actor = audit.Actor.cli()
    team = hospital.add_team(
        actor,
        code="gen-pccot",
        site=built["site"],
        name="Children's Outreach",
        population=Population.PAEDIATRIC,
        public_phone="020 7946 0102",
        duty_phone="07400 900102",
    )
    kids = hospital.add_ward(
        actor, code="kids", name="Kingfisher Ward", site=built["site"], team=team, population=Population.PAEDIATRIC
    )
    db.session.commit()
    births = [None, date(1950, 1, 2), date(1996, 1, 1), date(1998, 9, 1), date(1999, 9, 1), date(2010, 3, 1)]
    calls = [
        old_call(ward, n, patient_dob=dob)
        for n, (ward, dob) in enumerate(((w, b) for w in (built["ward"], kids) for b in births), start=1)
    ]
    assert {c.age_group for c in calls} == {AgeGroup.UNKNOWN}
    adult_ward = built["ward"].id
    children_on_the_adult_ward = {
        c.reference for c in calls if c.ward_id == adult_ward and c.patient_dob and c.patient_dob.year >= 2005
    }
    settings = current_settings()
    today = NOW.date()
    before = {
        c.reference
        for c in calls
        if (d := _due_before_the_age_group(c, settings, c.ward_id == kids.id)) is not None and d.date <= today
    }
    references = [c.reference for c in calls]
    db.session.commit()
    with time_machine.travel(NOW, tick=False):
        dry = app.test_cli_runner().invoke(args=["tracker", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    listed = {reference for reference in references if reference in dry.output}
    assert listed <= before
    assert listed == before - children_on_the_adult_ward and children_on_the_adult_ward & before
